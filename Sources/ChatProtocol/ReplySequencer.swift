/// Keeps a connection's replies in the order of its commands while the answers from
/// different workers arrive in any order.
public struct ReplySequencer: Sendable {
    public typealias Slot = UInt64

    private var nextSlot: Slot = 0
    private var firstUnsent: Slot = 0
    private var filled: [Slot: [UInt8]] = [:]

    public init() {}

    /// True when every reserved reply has been written.
    public var isIdle: Bool { firstUnsent == nextSlot }

    public mutating func reserve() -> Slot {
        defer { nextSlot += 1 }
        return nextSlot
    }

    /// Records the bytes for `slot` and returns every reply that may now be written, in order.
    public mutating func fill(_ slot: Slot, with bytes: [UInt8]) -> [UInt8] {
        guard slot >= firstUnsent, slot < nextSlot else { return [] }
        // The common case: the oldest reply arrives first and nothing waits behind it.
        if slot == firstUnsent && filled.isEmpty {
            firstUnsent += 1
            return bytes
        }
        filled[slot] = bytes
        var ready: [UInt8] = []
        while let next = filled.removeValue(forKey: firstUnsent) {
            ready.append(contentsOf: next)
            firstUnsent += 1
        }
        return ready
    }
}
