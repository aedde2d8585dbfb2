/// Reads what `BusWriter` wrote; every read checks bounds and throws `.truncated` past the end.
///
/// It reads through a pointer, so it lives inside the `withUnsafeBytes` of the `[UInt8]` it
/// reads (`BusEnvelope.decode(batch:onUndecodable:_:)` makes one per envelope) and must not
/// outlive it; strings and byte arrays are read as `UInt8`, which that memory is bound to.
public struct BusReader {
    private let buffer: UnsafeRawBufferPointer
    private var offset = 0

    init(_ buffer: UnsafeRawBufferPointer) {
        self.buffer = buffer
    }

    public var isAtEnd: Bool { offset == buffer.count }
    public var remaining: Int { buffer.count - offset }

    public mutating func read<T: FixedWidthInteger>() throws -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw BusDecodingError.truncated }
        defer { offset += size }
        return T(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    public mutating func read() throws -> Bool {
        let raw: UInt8 = try read()
        return raw != 0
    }

    public mutating func readBytes() throws -> [UInt8] {
        Array(try take(Int(try read() as UInt32)).assumingMemoryBound(to: UInt8.self))
    }

    public mutating func read() throws -> String {
        let utf8 = try take(Int(try read() as UInt32)).assumingMemoryBound(to: UInt8.self)
        // Uids, names and identities are almost always ASCII, which is valid UTF-8 as it
        // stands and far cheaper to check than validating.
        if utf8.allSatisfy({ $0 < 0x80 }) { return String(decoding: utf8, as: UTF8.self) }
        guard let value = String(validating: utf8, as: UTF8.self) else {
            throw BusDecodingError.badValue("string is not UTF-8")
        }
        return value
    }

    public mutating func read() throws -> [String] {
        let count = Int(try read() as UInt32)
        guard count <= remaining else { throw BusDecodingError.truncated }
        var values: [String] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try read()) }
        return values
    }

    /// The next `count` bytes, in place.
    private mutating func take(_ count: Int) throws -> UnsafeRawBufferPointer {
        guard remaining >= count else { throw BusDecodingError.truncated }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + count])
    }
}
