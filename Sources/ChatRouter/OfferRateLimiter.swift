import ChatRuntime

/// Peer-to-peer offers per user, a `TokenBucket` each: a user may offer `perMinute` at once,
/// then one more each `60 / perMinute` seconds. Kept in the router, which sees every offer of
/// a user whatever connection or gateway it comes from, so reconnecting does not refill it.
/// A bucket is kept only until it has refilled: a full one is as good as none, so the table
/// holds recent offerers rather than every user who ever offered.
///
/// Pure bookkeeping with an injected clock (`now`, in nanoseconds).
struct OfferRateLimiter {
    /// Offers a minute and the burst allowed; 0 turns the limit off.
    private(set) var perMinute: Int
    private var buckets: [String: TokenBucket] = [:]

    init(perMinute: Int) {
        self.perMinute = perMinute
    }

    /// A new allowance (a reload). Every user starts afresh with it, a full one: a bucket
    /// filled at the old rate would otherwise keep that rate for as long as it is in use.
    mutating func change(perMinute: Int) {
        guard perMinute != self.perMinute else { return }
        self.perMinute = perMinute
        buckets = [:]
    }

    /// Buckets not yet refilled (the others are as good as absent).
    var trackedUsers: Int { buckets.count }

    /// Takes one offer from `uid`'s bucket: false when it is empty.
    mutating func allow(_ uid: String, now: UInt64) -> Bool {
        guard perMinute > 0 else { return true }
        return buckets[uid, default: TokenBucket(perMinute: perMinute, burst: perMinute)].take(now: Int64(clamping: now))
    }

    /// Forgets users whose buckets are full again, so the table holds only recent offerers.
    mutating func forgetRefilled(now: UInt64) {
        let now = Int64(clamping: now)
        buckets = buckets.filter { !$0.value.isFull(now: now) }
    }
}
