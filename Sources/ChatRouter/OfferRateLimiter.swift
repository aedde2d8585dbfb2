/// Peer-to-peer offers per user, as a token bucket: a user may offer `perMinute` at once, then
/// one more each `60 / perMinute` seconds. Kept in the router, which sees every offer of a
/// user whatever connection or gateway it comes from, so reconnecting does not refill it.
///
/// Pure bookkeeping with an injected clock (`now`, in nanoseconds).
struct OfferRateLimiter {
    private struct Bucket {
        var tokens: Double
        var updated: UInt64
    }

    /// Offers a minute and the burst allowed; 0 turns the limit off.
    let perMinute: Int
    private var buckets: [String: Bucket] = [:]

    init(perMinute: Int) {
        self.perMinute = perMinute
    }

    /// Buckets not yet refilled (the others are as good as absent).
    var trackedUsers: Int { buckets.count }

    /// Takes one offer from `uid`'s bucket: false when it is empty.
    mutating func allow(_ uid: String, now: UInt64) -> Bool {
        guard perMinute > 0 else { return true }
        var bucket = refilled(buckets[uid], now: now)
        guard bucket.tokens >= 1 else {
            buckets[uid] = bucket
            return false
        }
        bucket.tokens -= 1
        buckets[uid] = bucket
        return true
    }

    /// Forgets users whose buckets are full again, so the table holds only recent offerers.
    mutating func forgetRefilled(now: UInt64) {
        buckets = buckets.filter { refilled($0.value, now: now).tokens < Double(perMinute) }
    }

    private func refilled(_ bucket: Bucket?, now: UInt64) -> Bucket {
        let capacity = Double(perMinute)
        guard let bucket else { return Bucket(tokens: capacity, updated: now) }
        let elapsedSeconds = Double(now &- bucket.updated) / 1_000_000_000
        guard now >= bucket.updated else { return bucket }
        return Bucket(tokens: min(capacity, bucket.tokens + elapsedSeconds * capacity / 60), updated: now)
    }
}
