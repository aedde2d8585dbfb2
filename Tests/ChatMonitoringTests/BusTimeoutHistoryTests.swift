import ChatMonitoring
import Testing

/// The last minute's timeouts from a counter sampled now and then; times in nanoseconds.
@Suite struct BusTimeoutHistoryTests {
    private let second: UInt64 = 1_000_000_000

    @Test func theLastMinuteIsTheLatestTotalLessTheTotalAMinuteAgo() {
        var history = BusTimeoutHistory()
        history.record(process: "gateway", pid: 1, total: 10, at: 0)
        history.record(process: "gateway", pid: 1, total: 12, at: 30 * second)
        history.record(process: "gateway", pid: 1, total: 20, at: 70 * second)
        // The sample at 0 is older than the window; at 70 s the window starts at 10 s: the
        // newest sample at or before it is still the one at 0.
        #expect(history.timeoutsInWindow(process: "gateway", pid: 1, now: 70 * second, startedWithinWindow: false) == 10)
        history.record(process: "gateway", pid: 1, total: 21, at: 95 * second)
        #expect(history.timeoutsInWindow(process: "gateway", pid: 1, now: 95 * second, startedWithinWindow: false) == 9)
    }

    @Test func aYoungProcessCountsFromZeroAnOldOneFromItsFirstSample() {
        var history = BusTimeoutHistory()
        history.record(process: "gateway", pid: 1, total: 5, at: 100 * second)
        #expect(history.timeoutsInWindow(process: "gateway", pid: 1, now: 100 * second, startedWithinWindow: true) == 5)
        #expect(history.timeoutsInWindow(process: "gateway", pid: 1, now: 100 * second, startedWithinWindow: false) == 0)
    }

    @Test func aNewPidStartsANewCounter() {
        var history = BusTimeoutHistory()
        history.record(process: "router", pid: 1, total: 50, at: 0)
        history.record(process: "router", pid: 2, total: 1, at: 10 * second)
        #expect(history.timeoutsInWindow(process: "router", pid: 1, now: 10 * second, startedWithinWindow: true) == nil)
        #expect(history.timeoutsInWindow(process: "router", pid: 2, now: 10 * second, startedWithinWindow: true) == 1)
    }

    @Test func aProcessSilentForAMinuteIsForgotten() {
        var history = BusTimeoutHistory()
        history.record(process: "gateway-b", pid: 9, total: 3, at: 0)
        history.forget(notSeenSince: 61 * second)
        #expect(history.timeoutsInWindow(process: "gateway-b", pid: 9, now: 61 * second, startedWithinWindow: true) == nil)
    }
}
