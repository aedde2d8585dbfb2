/// A token bucket for one signed-in user's messages: `burst` may go at once, then
/// `perSecond` a second. Kept as the one instant at which the bucket would be full again
/// (the generic cell rate algorithm, GCRA), so a message costs one comparison and one addition
/// and the bucket never needs a timer to refill.
///
/// Times are monotonic nanoseconds (`NIODeadline.uptimeNanoseconds`), passed in by the caller.
struct MessageRate {
    /// What one message adds to `fullAt`; 0 when there is no limit.
    let nanosPerMessage: Int64
    /// How far ahead of now `fullAt` may run: the whole bucket, `burst` messages' worth.
    let bucketNanos: Int64
    /// When the bucket would be full again if nothing more were sent.
    private var fullAt: Int64 = 0

    /// `perSecond` 0 lets everything through.
    init(perSecond: Int, burst: Int) {
        nanosPerMessage = perSecond > 0 ? 1_000_000_000 / Int64(perSecond) : 0
        bucketNanos = nanosPerMessage * Int64(max(1, burst))
    }

    /// Takes a token for one message at `now`, or false when the bucket is empty.
    /// With no limit both sides are `max(fullAt, now) - now`, which is 0: always true.
    mutating func take(now: Int64) -> Bool {
        let start = max(fullAt, now)
        guard start + nanosPerMessage - now <= bucketNanos else { return false }
        fullAt = start + nanosPerMessage
        return true
    }

    /// Nanoseconds from `now` until `take` succeeds (0 if it would now).
    func wait(now: Int64) -> Int64 {
        max(0, fullAt + nanosPerMessage - bucketNanos - now)
    }
}
