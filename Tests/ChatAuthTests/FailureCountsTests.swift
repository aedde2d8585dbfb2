@testable import ChatAuth
import Testing

@Suite struct FailureCountsTests {
    static let second: UInt64 = 1_000_000_000
    static let policy = FailureCounts.Policy(free: 3, firstDelay: second, maxDelay: 8 * second, forgetAfter: 60 * second, maxKeys: 100)

    @Test func theFreeFailuresCostNothingThenEachDoublesTheWaitUpToTheCap() {
        let counts = FailureCounts(policy: Self.policy)
        let waits = (0...9).map { counts.delay(afterFailures: $0) / Self.second }
        #expect(waits == [0, 0, 0, 0, 1, 2, 4, 8, 8, 8])
        // However many failures, the wait never overflows past the cap.
        #expect(counts.delay(afterFailures: 10_000) == 8 * Self.second)
    }

    @Test func aKeyWaitsFromItsLastFailureAndOthersAreUntouched() {
        var counts = FailureCounts(policy: Self.policy)
        let start: UInt64 = 1_000 * Self.second
        for _ in 0..<3 { counts.fail("a", now: start) }
        #expect(counts.wait(for: "a", now: start) == nil)
        let started = counts.fail("a", now: start)
        #expect(started == Self.second)
        #expect(counts.wait(for: "a", now: start) == Self.second)
        #expect(counts.wait(for: "a", now: start + Self.second / 2) == Self.second / 2)
        #expect(counts.wait(for: "a", now: start + Self.second) == nil)
        #expect(counts.wait(for: "b", now: start) == nil)

        let doubled = counts.fail("a", now: start + Self.second)
        #expect(doubled == 2 * Self.second)
        #expect(counts.wait(for: "a", now: start + 2 * Self.second) == Self.second)
    }

    @Test func aQuietKeyStartsAfreshAndAForgottenOneAtOnce() {
        var counts = FailureCounts(policy: Self.policy)
        let start: UInt64 = 1_000 * Self.second
        for _ in 0..<6 { counts.fail("a", now: start) }
        #expect(counts.wait(for: "a", now: start + 59 * Self.second) == nil) // past the 8 s cap
        // Quiet for the forget period: the next failure is the first again, and free.
        let afresh = counts.fail("a", now: start + 60 * Self.second)
        #expect(afresh == 0)
        #expect(counts.records["a"]?.failures == 1)

        for _ in 0..<6 { counts.fail("b", now: start) }
        counts.forget("b")
        #expect(counts.wait(for: "b", now: start) == nil)
        #expect(counts.records["b"] == nil)
    }

    @Test func aFloodOfKeysIsBoundedAndTheLongestQuietGoFirst() {
        var counts = FailureCounts(policy: Self.policy)
        let start: UInt64 = 1_000 * Self.second
        for _ in 0..<6 { counts.fail("recent", now: start + 10 * Self.second) }
        for index in 0..<1_000 { counts.fail("flood-\(index)", now: start + UInt64(index % 10) * Self.second / 10) }
        #expect(counts.records.count <= 100)
        // The newest failures, the attacked key's among them, are still counted.
        #expect(counts.wait(for: "recent", now: start + 10 * Self.second) != nil)
        #expect(counts.records["flood-999"] != nil)
    }
}
