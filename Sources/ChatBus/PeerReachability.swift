/// Whether the worker a dealer socket connects to is there, from the socket monitor's
/// connected and disconnected events. A request to a worker gone longer than a restart takes
/// fails at once instead of waiting out its timeout in ZeroMQ's queue; one to a worker that is
/// restarting, or that never connected yet (still starting), waits in the queue as before.
///
/// Times are monotonic nanoseconds, passed in.
struct PeerReachability: Equatable {
    enum State: Equatable {
        case neverConnected
        case connected
        case lost(since: UInt64)
    }

    private(set) var state = State.neverConnected

    /// Records a monitor event; returns what the log should say, if anything.
    mutating func connected() -> Change? {
        defer { state = .connected }
        if case .lost = state { return .reachableAgain }
        return nil
    }

    mutating func disconnected(now: UInt64) -> Change? {
        guard state == .connected else { return nil }
        state = .lost(since: now)
        return .unreachable
    }

    /// The peer is expected back (a newer partition map names a storage worker again that was
    /// removed, and it is starting at its old endpoint): requests wait for it, as for one
    /// starting, for another `grace` from `now` before failing fast again.
    mutating func expectedBack(now: UInt64) {
        if case .lost = state { state = .lost(since: now) }
    }

    enum Change: Equatable { case unreachable, reachableAgain }

    /// Cheap to ask on every request; only a lost peer needs the clock read.
    var isLost: Bool {
        if case .lost = state { return true }
        return false
    }

    /// Whether a request now should fail at once: the peer has been gone longer than `grace`.
    func failsFast(now: UInt64, grace: UInt64) -> Bool {
        guard case .lost(let since) = state else { return false }
        return now &- since >= grace
    }
}
