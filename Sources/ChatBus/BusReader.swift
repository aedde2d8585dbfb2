/// Reads what `BusWriter` wrote; every read checks bounds and throws `.truncated` past the end.
public struct BusReader {
    private let bytes: ArraySlice<UInt8>
    private var offset: Int

    public init(_ bytes: [UInt8]) { self.init(bytes[...]) }

    public init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        offset = bytes.startIndex
    }

    public var isAtEnd: Bool { offset == bytes.endIndex }
    public var remaining: Int { bytes.endIndex - offset }

    public mutating func read<T: FixedWidthInteger>() throws -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw BusDecodingError.truncated }
        var value: T = 0
        for index in 0..<size { value = (value << 8) | T(bytes[offset + index]) }
        offset += size
        return value
    }

    public mutating func read() throws -> Bool {
        let raw: UInt8 = try read()
        return raw != 0
    }

    public mutating func readBytes() throws -> [UInt8] {
        let count = Int(try read() as UInt32)
        guard remaining >= count else { throw BusDecodingError.truncated }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    public mutating func read() throws -> String {
        let count = Int(try read() as UInt32)
        guard remaining >= count else { throw BusDecodingError.truncated }
        defer { offset += count }
        return try bytes[offset..<offset + count].withUnsafeBufferPointer { raw in
            // Uids, names and identities are almost always ASCII, which is valid UTF-8 as it
            // stands and far cheaper to check than validating.
            if raw.allSatisfy({ $0 < 0x80 }) { return String(decoding: raw, as: UTF8.self) }
            guard let value = String(validating: raw, as: UTF8.self) else {
                throw BusDecodingError.badValue("string is not UTF-8")
            }
            return value
        }
    }

    public mutating func read() throws -> [String] {
        let count = Int(try read() as UInt32)
        guard count <= remaining else { throw BusDecodingError.truncated }
        var values: [String] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try read()) }
        return values
    }
}
