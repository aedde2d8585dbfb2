/// What one spliced relay connection may still pass to its partner, and whether anything went
/// through it either way since the last idle check.
///
/// A relay carries what its transfer was offered at, plus the peer-link lines around it: each
/// side's `P2P <token>` greeting, the sender's `GO` and `<name>` lines, the receiver's `ok` or
/// `bad` (well under 1 KiB together). The margin of 64 KiB and 1% leaves room for those with
/// plenty to spare and still keeps the relay from serving as an open pipe.
struct RelayTraffic: Equatable {
    static let fixedMargin: Int64 = 64 << 10

    /// Bytes this connection may still send to its partner.
    private(set) var remaining: Int64
    /// A byte was read or written since the last idle check.
    private(set) var wasActive = false

    init(offeredSize: Int64) {
        remaining = Self.byteCap(offeredSize: offeredSize)
    }

    /// The offered size plus the margin, saturating rather than overflowing for huge offers.
    static func byteCap(offeredSize: Int64) -> Int64 {
        let size = max(0, offeredSize)
        let (withPercent, overflowed) = size.addingReportingOverflow(size / 100)
        guard !overflowed else { return .max }
        let (cap, overflowedAgain) = withPercent.addingReportingOverflow(fixedMargin)
        return overflowedAgain ? .max : cap
    }

    /// Counts `count` bytes read for the partner: false, counting nothing, if they would pass the cap.
    mutating func take(_ count: Int) -> Bool {
        guard Int64(count) <= remaining else { return false }
        remaining -= Int64(count)
        wasActive = true
        return true
    }

    /// Bytes from the partner were written to this connection.
    mutating func delivered() { wasActive = true }

    /// At each idle check: whether the relay was idle since the previous one; starts a new interval.
    mutating func checkIdle() -> Bool {
        defer { wasActive = false }
        return !wasActive
    }
}
