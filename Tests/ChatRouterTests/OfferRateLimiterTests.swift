@testable import ChatRouter
import Testing

/// The per-user table over `TokenBucket` (tested in ChatRuntimeTests): a bucket per user, as
/// large as the rate a minute, forgotten once refilled.
@Suite struct OfferRateLimiterTests {
    static let second: UInt64 = 1_000_000_000

    /// Offers by `uid` at each of `seconds`: which were allowed.
    private func offers(_ limiter: inout OfferRateLimiter, by uid: String = "111111", at seconds: [Double]) -> [Bool] {
        seconds.map { limiter.allow(uid, now: UInt64($0 * Double(Self.second))) }
    }

    @Test func aBurstOfThePerMinuteRateThenOneEveryFewSeconds() {
        var limiter = OfferRateLimiter(perMinute: 30)
        let burst = offers(&limiter, at: Array(repeating: 0, count: 31))
        #expect(burst == Array(repeating: true, count: 30) + [false])
        // One comes back every 2 s at 30 a minute; a refused attempt takes nothing.
        let later = offers(&limiter, at: [1, 2, 2, 4, 5, 6])
        #expect(later == [false, true, false, true, false, true])
    }

    @Test func usersHaveBucketsOfTheirOwn() {
        var limiter = OfferRateLimiter(perMinute: 2)
        let first = offers(&limiter, by: "111111", at: [0, 0, 0])
        let second = offers(&limiter, by: "222222", at: [0])
        #expect(first == [true, true, false] && second == [true])
    }

    @Test func zeroMeansNoLimit() {
        var limiter = OfferRateLimiter(perMinute: 0)
        let many = offers(&limiter, at: Array(repeating: 0, count: 10_000))
        #expect(many.allSatisfy { $0 })
        #expect(limiter.trackedUsers == 0)
    }

    @Test func refilledBucketsAreForgotten() {
        var limiter = OfferRateLimiter(perMinute: 60)
        _ = offers(&limiter, by: "111111", at: [0])
        _ = offers(&limiter, by: "222222", at: [0, 0, 0, 0, 0])
        limiter.forgetRefilled(now: 2 * Self.second)
        #expect(limiter.trackedUsers == 1)
        limiter.forgetRefilled(now: 5 * Self.second)
        #expect(limiter.trackedUsers == 0)
    }

    /// A reload: everyone starts afresh at the new allowance, even users with a bucket in use.
    @Test func aNewAllowanceAppliesToEveryoneAtOnce() {
        var limiter = OfferRateLimiter(perMinute: 2)
        _ = offers(&limiter, at: [0, 0])
        limiter.change(perMinute: 1)
        #expect(offers(&limiter, at: [1, 1]) == [true, false])
        limiter.change(perMinute: 0)
        #expect(offers(&limiter, at: Array(repeating: 1, count: 100)).allSatisfy { $0 })
    }
}
