/// Whose presence the router is still waiting for, and so what to answer for a text whose
/// recipient it does not find online. Pure bookkeeping over a clock the caller passes in.
///
/// The router learns who is online from the gateways. Right after its own start it knows
/// nobody; right after it takes back a gateway it had taken for dead (a split, a stopped
/// process) it knows nobody on that gateway, until the gateway answers `needsSync` with its
/// `presenceSync` (within a heartbeat, 1 s, plus a round trip). A recipient not found in that
/// window may well be signed in, so `Target user offline` would be a lie: the text (already
/// stored) is held instead, and answered once the presence is whole or `bound` has passed.
struct PresenceResync: Equatable {
    enum Verdict: Equatable {
        case deliver
        case answerOffline
        case hold
    }

    /// How long a missing presence holds answers, in nanoseconds; past it the answer is the
    /// honest one for what the router knows. Below the gateways' request timeout, so a held
    /// text is answered rather than timed out.
    let bound: UInt64
    private let startedAt: UInt64
    private var anySynced = false
    /// Gateways heard from without their presence, since when. Kept past `bound` (a gateway
    /// that never manages to sync holds answers once, not at each of its heartbeats) until it
    /// syncs or is taken for dead.
    private var unsyncedSince: [[UInt8]: UInt64] = [:]

    init(startedAt: UInt64, bound: UInt64) {
        self.startedAt = startedAt
        self.bound = bound
    }

    /// A message came from a gateway whose presence the router does not have (it is new, or
    /// back after being taken for dead): its sync is due.
    mutating func heard(fromUnsynced gateway: [UInt8], now: UInt64) {
        if unsyncedSince[gateway] == nil { unsyncedSince[gateway] = now }
    }

    mutating func synced(_ gateway: [UInt8]) {
        anySynced = true
        unsyncedSince.removeValue(forKey: gateway)
    }

    /// The gateway was taken for dead: while it is gone its users are offline, no waiting.
    mutating func forget(_ gateway: [UInt8]) {
        unsyncedSince.removeValue(forKey: gateway)
    }

    /// True while some presence the router expects is missing and `bound` has not passed.
    func isWaiting(now: UInt64) -> Bool {
        let sinceStart = now &- startedAt
        // After a start, every gateway still running is heard from within one heartbeat (its
        // first is answered `needsSync`), and then waited for; until a heartbeat has passed,
        // one not heard from yet may hold the recipient, so the first gateway's sync is not
        // enough. With no sync at all, the bound ends the wait.
        if sinceStart < min(Self.heartbeatWindow, bound) || (!anySynced && sinceStart < bound) { return true }
        return unsyncedSince.values.contains { now &- $0 < bound }
    }

    /// The gateways' heartbeat (1 s) and a margin for its trip.
    static let heartbeatWindow: UInt64 = 1_500_000_000

    func verdict(recipientOnline: Bool, now: UInt64) -> Verdict {
        if recipientOnline { return .deliver }
        return isWaiting(now: now) ? .hold : .answerOffline
    }

    /// The bound for a gateway request timeout: 2.5 s, or less so that a held text is still
    /// answered well within the timeout (three quarters of it).
    static func bound(requestTimeoutMilliseconds: Int) -> UInt64 {
        min(2_500_000_000, UInt64(max(requestTimeoutMilliseconds, 0)) * 750_000)
    }
}
