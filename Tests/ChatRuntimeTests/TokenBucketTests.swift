import ChatRuntime
import Testing

@Suite struct TokenBucketTests {
    static let second: Int64 = 1_000_000_000

    /// Whether a token was there at each of `times`.
    static func take(_ bucket: inout TokenBucket, at times: [Int64]) -> [Bool] {
        times.map { bucket.take(now: $0) }
    }

    @Test func aFullBucketLetsTheBurstGoThenOnePerInterval() {
        var bucket = TokenBucket(perSecond: 10, burst: 3)
        let now = 5 * Self.second, interval = Self.second / 10
        #expect(Self.take(&bucket, at: [now, now, now, now]) == [true, true, true, false])
        #expect(bucket.wait(now: now) == interval)
        #expect(Self.take(&bucket, at: [now + interval - 1, now + interval, now + interval]) == [false, true, false])
    }

    @Test func anIdleBucketRefillsToTheBurstAndNoFurther() {
        var bucket = TokenBucket(perSecond: 10, burst: 3)
        _ = Self.take(&bucket, at: [0, 0, 0])
        // An hour of silence is worth a full bucket, not 36,000 messages.
        let later = 3_600 * Self.second
        #expect(Self.take(&bucket, at: [later, later, later, later]) == [true, true, true, false])
        #expect(bucket.wait(now: later) == Self.second / 10)
    }

    @Test func aSteadySenderAtTheRateIsNeverHeldBack() {
        var bucket = TokenBucket(perSecond: 20, burst: 1)
        let times = (0..<1_000).map { Int64($0) * Self.second / 20 }
        #expect(Self.take(&bucket, at: times).allSatisfy { $0 })
        #expect(Self.take(&bucket, at: [times.last!]) == [false])
    }

    @Test func noLimitLetsEverythingThrough() {
        for var bucket in [TokenBucket(perSecond: 0, burst: 100), TokenBucket(perMinute: 0, burst: 100)] {
            #expect(Self.take(&bucket, at: Array(repeating: 42, count: 100_000)).allSatisfy { $0 })
            #expect(bucket.wait(now: 42) == 0)
        }
    }

    @Test func waitIsZeroWhileTokensRemain() {
        var bucket = TokenBucket(perSecond: 1, burst: 2)
        #expect(bucket.wait(now: 0) == 0)
        _ = Self.take(&bucket, at: [0])
        #expect(bucket.wait(now: 0) == 0)
        _ = Self.take(&bucket, at: [0])
        #expect(bucket.wait(now: 0) == Self.second)
        #expect(bucket.wait(now: Self.second / 4) == 3 * Self.second / 4)
    }

    /// The router's offers: 30 a minute, as many at once, then one every 2 s.
    @Test func aPerMinuteRateGivesATokenBackEverySixtiethOfAMinutePerToken() {
        var bucket = TokenBucket(perMinute: 30, burst: 30)
        #expect(Self.take(&bucket, at: Array(repeating: 0, count: 31)) == Array(repeating: true, count: 30) + [false])
        #expect(bucket.wait(now: 0) == 2 * Self.second)
        #expect(Self.take(&bucket, at: [2 * Self.second - 1, 2 * Self.second, 2 * Self.second]) == [false, true, false])
    }

    @Test func aBucketIsFullOnceEveryTokenTakenHasComeBack() {
        var bucket = TokenBucket(perSecond: 1, burst: 5)
        #expect(bucket.isFull(now: 0))
        _ = Self.take(&bucket, at: [0, 0])
        #expect(!bucket.isFull(now: Self.second))
        #expect(bucket.isFull(now: 2 * Self.second))
    }
}
