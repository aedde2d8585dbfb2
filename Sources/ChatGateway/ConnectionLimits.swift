import ChatBus
import NIOCore

/// Whether the gateway takes one more connection: at most `maxConnections` open in all, and at
/// most `maxUnauthenticatedPerAddress` not signed in from one address. A signed-in connection
/// (or a spliced relay, which a token let in) still counts in all, no longer against its
/// address: one address may hold any number of sessions, but not a pile of idle sockets.
///
/// A value the gateway keeps under a lock and tells of each connection's life; refusals are
/// tallied here too, so a flood is logged once in a while, not once per connection.
struct ConnectionLimits {
    enum Decision: Equatable, Sendable {
        case admitted
        case tooManyInTotal
        case tooManyFromAddress
    }

    /// Refusals since the last report, by reason.
    struct RefusalReport: Equatable, Sendable {
        var tooManyInTotal = 0
        var tooManyFromAddress = 0
    }

    var maxConnections: Int
    /// 0: no limit per address.
    var maxUnauthenticatedPerAddress: Int
    private(set) var openConnections = 0
    /// Every open connection that has not signed in, with the address it counts against.
    private var unauthenticated: [UInt64: ClientAddress] = [:]
    private var unauthenticatedByAddress: [ClientAddress: Int] = [:]
    private var refusals = ReportThrottle(nothing: RefusalReport())

    init(maxConnections: Int, maxUnauthenticatedPerAddress: Int) {
        self.maxConnections = maxConnections
        self.maxUnauthenticatedPerAddress = maxUnauthenticatedPerAddress
    }

    /// Counts `connection` as open and not signed in, or refuses it and counts nothing.
    mutating func admit(_ connection: UInt64, from address: ClientAddress) -> Decision {
        guard openConnections < maxConnections else {
            refusals.unreported.tooManyInTotal += 1
            return .tooManyInTotal
        }
        let fromAddress = unauthenticatedByAddress[address, default: 0]
        guard maxUnauthenticatedPerAddress == 0 || fromAddress < maxUnauthenticatedPerAddress else {
            refusals.unreported.tooManyFromAddress += 1
            return .tooManyFromAddress
        }
        openConnections += 1
        unauthenticated[connection] = address
        unauthenticatedByAddress[address] = fromAddress + 1
        return .admitted
    }

    /// `connection` signed in (or became a relay): its address may open another in its place.
    mutating func authenticated(_ connection: UInt64) {
        guard let address = unauthenticated.removeValue(forKey: connection) else { return }
        let remaining = unauthenticatedByAddress[address, default: 1] - 1
        unauthenticatedByAddress[address] = remaining > 0 ? remaining : nil
    }

    /// An admitted connection closed, signed in or not; call it once per admitted connection.
    mutating func closed(_ connection: UInt64) {
        authenticated(connection)
        openConnections -= 1
    }

    /// Connections from `address` that count against its limit now.
    func unauthenticatedConnections(from address: ClientAddress) -> Int {
        unauthenticatedByAddress[address, default: 0]
    }

    /// The refusals since the last report, at most once per `interval` (the first at once), or
    /// nil when there are none or the last report was too recent.
    mutating func refusalsToReport(now: NIODeadline, every interval: TimeAmount) -> RefusalReport? {
        refusals.report(now: now.uptimeNanoseconds, every: UInt64(interval.nanoseconds))
    }
}
