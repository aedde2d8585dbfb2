/// Which password hashes auth takes on. scrypt is slow on purpose, so a storm of sign-ins
/// could queue minutes of hashing that nobody waits for any more: every other sign-in would
/// then time out long after the storm ended. So at most `maxQueued` hashes wait or run at
/// once (past that a request is refused at once, and its client gets `Service unavailable`),
/// and a queued hash whose requester has already given up is skipped rather than computed.
///
/// Used on the auth worker's bus thread (`admit`, `finished`); `isStale` is pure.
struct HashingAdmission {
    /// A reload may change it; hashes under way past a lowered limit finish.
    var maxQueued: Int
    /// How long the requester waits for an answer (the bus's request timeout).
    let requesterPatienceNanos: UInt64
    private(set) var queued = 0

    init(maxQueued: Int, requesterPatienceNanos: UInt64) {
        self.maxQueued = maxQueued
        self.requesterPatienceNanos = requesterPatienceNanos
    }

    /// Takes a hash on, or refuses it when `maxQueued` are waiting or running already.
    mutating func admit() -> Bool {
        guard queued < maxQueued else { return false }
        queued += 1
        return true
    }

    /// A hash taken on by `admit` is done (computed or skipped).
    mutating func finished() {
        queued -= 1
    }

    /// True when a request received at `receivedAt` is no longer awaited at `now` (monotonic
    /// nanoseconds): its requester has answered `Service unavailable` already.
    func isStale(receivedAt: UInt64, now: UInt64) -> Bool {
        now >= receivedAt && now - receivedAt >= requesterPatienceNanos
    }
}
