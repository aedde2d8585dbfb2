import CLibPQ

/// A query's rows, in PostgreSQL's binary format: integers big-endian (`smallint`,
/// `integer`, `bigint`), text as UTF-8, `bytea` as is.
///
/// Unchecked: owns its `PGresult`, read only, freed once.
public final class PostgresRows: @unchecked Sendable {
    private let result: OpaquePointer

    init(_ result: OpaquePointer) { self.result = result }

    deinit { PQclear(result) }

    public var count: Int { Int(PQntuples(result)) }

    public func isNull(_ row: Int, _ column: Int) -> Bool { PQgetisnull(result, Int32(row), Int32(column)) == 1 }

    public func bytes(_ row: Int, _ column: Int) -> [UInt8] {
        let length = Int(PQgetlength(result, Int32(row), Int32(column)))
        guard length > 0, let value = PQgetvalue(result, Int32(row), Int32(column)) else { return [] }
        return value.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }

    /// Appends the column's bytes to `buffer` without an intermediate array.
    public func appendBytes(_ row: Int, _ column: Int, to buffer: inout [UInt8]) {
        let length = Int(PQgetlength(result, Int32(row), Int32(column)))
        guard length > 0, let value = PQgetvalue(result, Int32(row), Int32(column)) else { return }
        value.withMemoryRebound(to: UInt8.self, capacity: length) { buffer.append(contentsOf: UnsafeBufferPointer(start: $0, count: length)) }
    }

    public func text(_ row: Int, _ column: Int) -> String { String(decoding: bytes(row, column), as: UTF8.self) }

    /// A `smallint`, `integer` or `bigint` column; 0 when null.
    public func integer(_ row: Int, _ column: Int) -> Int64 {
        bytes(row, column).reduce(into: Int64(0)) { $0 = $0 << 8 | Int64($1) }.signExtended(fromBytes: Int(PQgetlength(result, Int32(row), Int32(column))))
    }
}

extension Int64 {
    /// A big-endian two's-complement value of `count` bytes read into the low bytes.
    fileprivate func signExtended(fromBytes count: Int) -> Int64 {
        guard count > 0, count < 8 else { return self }
        let shift = Int64(64 - 8 * count)
        return (self << shift) >> shift
    }
}
