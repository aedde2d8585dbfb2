import Foundation

/// Appends big-endian integers and length-prefixed byte strings.
///
/// Writes go straight into the buffer's spare room through a pointer: an envelope is a dozen
/// small fields, and appending each through `Array`'s generic paths cost more than the rest of
/// encoding. `removeAll` keeps the room, so a writer reused for every batch stops allocating.
public struct BusWriter {
    /// Bytes past `count` are room, not content.
    private var storage: [UInt8] = []
    public private(set) var count = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }
    /// Bytes the writer holds room for.
    public var capacity: Int { storage.count }

    /// What was written, as an array of its own.
    public var bytes: [UInt8] { count == storage.count ? storage : Array(storage[..<count]) }

    /// What was written, without copying it.
    public func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
    }

    public mutating func removeAll() { count = 0 }

    public mutating func write<T: FixedWidthInteger>(_ value: T) {
        let size = MemoryLayout<T>.size
        if count + size > storage.count { grow(toHold: count + size) }
        let offset = count
        storage.withUnsafeMutableBytes { $0.storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self) }
        count += size
    }

    /// Overwrites four bytes at `offset` (a length written before what it measures).
    public mutating func patch(_ value: UInt32, at offset: Int) {
        precondition(offset >= 0 && offset + 4 <= count, "patch outside the written bytes")
        storage.withUnsafeMutableBytes { $0.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self) }
    }

    public mutating func write(_ value: Bool) { write(UInt8(value ? 1 : 0)) }

    /// A u32 length, then the bytes.
    public mutating func write(bytes value: [UInt8]) {
        value.withUnsafeBytes { write(lengthPrefixed: $0) }
    }

    public mutating func write(_ value: String) {
        var value = value
        value.withUTF8 { write(lengthPrefixed: UnsafeRawBufferPointer($0)) }
    }

    public mutating func write(_ values: [String]) {
        write(UInt32(values.count))
        for value in values { write(value) }
    }

    private mutating func write(lengthPrefixed source: UnsafeRawBufferPointer) {
        write(UInt32(source.count))
        guard source.count > 0 else { return }
        if count + source.count > storage.count { grow(toHold: count + source.count) }
        let offset = count
        storage.withUnsafeMutableBytes { $0.baseAddress!.advanced(by: offset).copyMemory(from: source.baseAddress!, byteCount: source.count) }
        count += source.count
    }

    /// Moves the written bytes into a buffer of at least `needed` bytes, copied and zeroed with
    /// memcpy and memset: a megabyte file chunk must not be filled a byte at a time.
    private mutating func grow(toHold needed: Int) {
        let newCapacity = Swift.max(needed, storage.count * 2, 256)
        let written = count
        storage = storage.withUnsafeBytes { old in
            [UInt8](unsafeUninitializedCapacity: newCapacity) { buffer, initialized in
                let base = UnsafeMutableRawPointer(buffer.baseAddress!)
                if written > 0 { memcpy(base, old.baseAddress!, written) }
                memset(base + written, 0, newCapacity - written)
                initialized = newCapacity
            }
        }
    }
}
