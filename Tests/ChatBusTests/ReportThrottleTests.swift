import ChatBus
import Testing

@Suite struct ReportThrottleTests {
    static let second: UInt64 = 1_000_000_000
    static let minute = 60 * second

    @Test func theFirstIsReportedAtOnceThenATallyAtMostOncePerInterval() {
        var throttle = ReportThrottle()
        let start = Self.second
        #expect(throttle.report(now: start, every: Self.minute) == nil)
        throttle.unreported += 1
        #expect(throttle.report(now: start, every: Self.minute) == 1)
        throttle.unreported += 2
        #expect(throttle.report(now: start + Self.minute - 1, every: Self.minute) == nil)
        #expect(throttle.report(now: start + Self.minute, every: Self.minute) == 2)
        // Nothing since: nothing to say, however long it has been.
        #expect(throttle.report(now: start + 10 * Self.minute, every: Self.minute) == nil)
        // After a quiet spell the next one is reported at once again.
        throttle.unreported += 1
        #expect(throttle.report(now: start + 10 * Self.minute, every: Self.minute) == 1)
    }

    struct ByReason: Equatable, Sendable {
        var one = 0
        var other = 0
    }

    @Test func aTallyOfSeveralKindsIsReportedWhole() {
        var throttle = ReportThrottle(nothing: ByReason())
        throttle.unreported.other += 1
        #expect(throttle.report(now: 0, every: Self.minute) == ByReason(one: 0, other: 1))
        throttle.unreported.one += 3
        throttle.unreported.other += 1
        #expect(throttle.report(now: Self.second, every: Self.minute) == nil)
        #expect(throttle.report(now: Self.minute, every: Self.minute) == ByReason(one: 3, other: 1))
        #expect(throttle.unreported == ByReason())
    }
}
