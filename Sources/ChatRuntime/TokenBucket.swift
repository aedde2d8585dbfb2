/// A token bucket: `burst` tokens may go at once, then one each interval. Kept as the one
/// instant at which the bucket would be full again (the generic cell rate algorithm, GCRA), so
/// a token costs one comparison and one addition and the bucket never needs a timer to refill.
/// The gateway takes one per message of a user (texts, voice, files, friend requests), so one
/// on every text; the router one per p2p offer.
///
/// Times are monotonic nanoseconds (`NIODeadline.uptimeNanoseconds`, `DispatchTime`), passed in
/// by the caller. Inlinable, so the gateway's per-text check costs what it did inside its own
/// module: no call, no allocation, no lock.
public struct TokenBucket: Sendable {
    /// What one token adds to `fullAt`; 0 when there is no limit.
    public let nanosPerToken: Int64
    /// How far ahead of now `fullAt` may run: the whole bucket, `burst` tokens' worth.
    public let bucketNanos: Int64
    /// When the bucket would be full again if nothing more were taken.
    @usableFromInline var fullAt: Int64 = 0

    /// `perSecond` 0 lets everything through.
    @inlinable
    public init(perSecond: Int, burst: Int) {
        self.init(nanosPerToken: perSecond > 0 ? 1_000_000_000 / Int64(perSecond) : 0, burst: burst)
    }

    /// `perMinute` 0 lets everything through.
    @inlinable
    public init(perMinute: Int, burst: Int) {
        self.init(nanosPerToken: perMinute > 0 ? 60_000_000_000 / Int64(perMinute) : 0, burst: burst)
    }

    @inlinable
    init(nanosPerToken: Int64, burst: Int) {
        self.nanosPerToken = nanosPerToken
        bucketNanos = nanosPerToken * Int64(max(1, burst))
    }

    /// Takes a token at `now`, or false when the bucket is empty; a refusal takes nothing.
    /// With no limit both sides are `max(fullAt, now) - now`, which is 0: always true.
    @inlinable
    public mutating func take(now: Int64) -> Bool {
        let start = max(fullAt, now)
        guard start + nanosPerToken - now <= bucketNanos else { return false }
        fullAt = start + nanosPerToken
        return true
    }

    /// Nanoseconds from `now` until `take` succeeds (0 if it would now).
    @inlinable
    public func wait(now: Int64) -> Int64 {
        max(0, fullAt + nanosPerToken - bucketNanos - now)
    }

    /// Whether the bucket has refilled to the burst by `now`: as good as a new one.
    @inlinable
    public func isFull(now: Int64) -> Bool {
        fullAt <= now
    }
}
