/// Appends big-endian integers and length-prefixed byte strings.
public struct BusWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func reserve(_ capacity: Int) { bytes.reserveCapacity(capacity) }

    public mutating func write<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    /// Overwrites four bytes at `offset` (a length written before what it measures).
    public mutating func patch(_ value: UInt32, at offset: Int) {
        withUnsafeBytes(of: value.bigEndian) { raw in
            for index in 0..<4 { bytes[offset + index] = raw[index] }
        }
    }

    public mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    public mutating func write(_ value: Bool) { write(UInt8(value ? 1 : 0)) }

    /// A u32 length, then the bytes.
    public mutating func write(bytes value: [UInt8]) {
        write(UInt32(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func write(_ value: String) {
        write(UInt32(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }

    public mutating func write(_ values: [String]) {
        write(UInt32(values.count))
        for value in values { write(value) }
    }
}
