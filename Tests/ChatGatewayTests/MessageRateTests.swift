@testable import ChatGateway
import Testing

@Suite struct MessageRateTests {
    static let second: Int64 = 1_000_000_000

    /// Whether a message at each of `times` got its token.
    static func take(_ rate: inout MessageRate, at times: [Int64]) -> [Bool] {
        times.map { rate.take(now: $0) }
    }

    @Test func aFullBucketLetsTheBurstGoThenOnePerInterval() {
        var rate = MessageRate(perSecond: 10, burst: 3)
        let now = 5 * Self.second, interval = Self.second / 10
        #expect(Self.take(&rate, at: [now, now, now, now]) == [true, true, true, false])
        #expect(rate.wait(now: now) == interval)
        #expect(Self.take(&rate, at: [now + interval - 1, now + interval, now + interval]) == [false, true, false])
    }

    @Test func anIdleBucketRefillsToTheBurstAndNoFurther() {
        var rate = MessageRate(perSecond: 10, burst: 3)
        _ = Self.take(&rate, at: [0, 0, 0])
        // An hour of silence is worth a full bucket, not 36,000 messages.
        let later = 3_600 * Self.second
        #expect(Self.take(&rate, at: [later, later, later, later]) == [true, true, true, false])
        #expect(rate.wait(now: later) == Self.second / 10)
    }

    @Test func aSteadySenderAtTheRateIsNeverHeldBack() {
        var rate = MessageRate(perSecond: 20, burst: 1)
        let times = (0..<1_000).map { Int64($0) * Self.second / 20 }
        #expect(Self.take(&rate, at: times).allSatisfy { $0 })
        #expect(Self.take(&rate, at: [times.last!]) == [false])
    }

    @Test func noLimitLetsEverythingThrough() {
        var rate = MessageRate(perSecond: 0, burst: 100)
        #expect(Self.take(&rate, at: Array(repeating: 42, count: 100_000)).allSatisfy { $0 })
        #expect(rate.wait(now: 42) == 0)
    }

    @Test func waitIsZeroWhileTokensRemain() {
        var rate = MessageRate(perSecond: 1, burst: 2)
        #expect(rate.wait(now: 0) == 0)
        _ = Self.take(&rate, at: [0])
        #expect(rate.wait(now: 0) == 0)
        _ = Self.take(&rate, at: [0])
        #expect(rate.wait(now: 0) == Self.second)
        #expect(rate.wait(now: Self.second / 4) == 3 * Self.second / 4)
    }
}
