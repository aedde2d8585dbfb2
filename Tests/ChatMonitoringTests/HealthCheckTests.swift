import ChatMonitoring
import ChatSupervisor
import Testing

@Suite struct HealthCheckTests {
    private let check = HealthCheck(silenceLimitSeconds: 3, startupGraceSeconds: 8)
    private let policy = RestartPolicy(maxRestarts: 3, windowSeconds: 60, maxBackoffSeconds: 30)

    private func running(_ name: String, pid: Int32, since: Double) -> ChildState {
        var state = ChildState(name: name, policy: policy)
        state.started(pid: pid, at: since)
        return state
    }

    @Test func healthyWhenEveryChildRunsAndReportedLately() {
        let states = [running("auth", pid: 10, since: 0), running("storage-0", pid: 11, since: 0)]
        let heard = ["auth": HealthCheck.Heard(pid: 10, at: 99), "storage-0": HealthCheck.Heard(pid: 11, at: 97.5)]
        #expect(check.problems(states, heard: heard, now: 100).isEmpty)
    }

    @Test func aChildSilentPastTheLimitIsUnhealthy() {
        let states = [running("auth", pid: 10, since: 0), running("storage-0", pid: 11, since: 0)]
        let heard = ["auth": HealthCheck.Heard(pid: 10, at: 99), "storage-0": HealthCheck.Heard(pid: 11, at: 95.8)]
        #expect(check.problems(states, heard: heard, now: 100) == ["storage-0 silent for 4.2 s"])
    }

    @Test func aChildBackingOffOrStoppedIsUnhealthyWhateverItReported() {
        var backingOff = running("storage-0", pid: 11, since: 0)
        _ = backingOff.exited(at: 99)
        let stopped = ChildState(name: "gateway", policy: policy)
        let heard = ["storage-0": HealthCheck.Heard(pid: 11, at: 99.5), "gateway": HealthCheck.Heard(pid: 12, at: 99.5)]
        #expect(check.problems([running("auth", pid: 10, since: 0), backingOff, stopped],
                               heard: ["auth": HealthCheck.Heard(pid: 10, at: 99.9)].merging(heard) { $1 },
                               now: 100) == ["storage-0 backing off", "gateway stopped"])
    }

    @Test func aChildJustStartedHasTheGraceToReport() {
        let states = [running("router", pid: 20, since: 95)]
        #expect(check.problems(states, heard: [:], now: 100).isEmpty)
        #expect(check.problems(states, heard: [:], now: 104).map { $0 } == ["router silent for 9.0 s, since it started"])
    }

    @Test func aReportFromTheChildBeforeItsRestartDoesNotCount() {
        // pid 20 was the router before it crashed; pid 21 has not reported yet.
        let states = [running("router", pid: 21, since: 90)]
        let heard = ["router": HealthCheck.Heard(pid: 20, at: 99.9)]
        #expect(check.problems(states, heard: heard, now: 100) == ["router silent for 10.0 s, since it started"])
        #expect(check.problems(states, heard: ["router": HealthCheck.Heard(pid: 21, at: 99.9)], now: 100).isEmpty)
    }

    @Test func theLimitIsThreeIntervalsButNeverUnderASecond() {
        #expect(HealthCheck(telemetryIntervalMilliseconds: 1_000).silenceLimitSeconds == 3)
        #expect(HealthCheck(telemetryIntervalMilliseconds: 200).silenceLimitSeconds == 1)
        #expect(HealthCheck(telemetryIntervalMilliseconds: 1_000).startupGraceSeconds == 8)
    }

    // `chatd monitor`: roles run on their own, expected by name, reporting as `<role>-<pid>`.

    @Test func everyExpectedRoleHeardFromLatelyIsHealthy() {
        let heard = ["auth-10": HealthCheck.Heard(pid: 10, at: 99), "gateway-12": HealthCheck.Heard(pid: 12, at: 90),
                     "gateway-13": HealthCheck.Heard(pid: 13, at: 98), "storage-10-14": HealthCheck.Heard(pid: 14, at: 99)]
        // One gateway of two silent is enough; storage-10 does not speak for storage-1.
        #expect(check.problems(expecting: ["auth", "gateway", "storage-1"], heard: heard, now: 100, watchingSince: 0)
            == ["storage-1 not heard from"])
        #expect(check.problems(expecting: ["auth", "gateway"], heard: heard, now: 100, watchingSince: 0).isEmpty)
    }

    @Test func anExpectedRoleSilentPastTheLimitIsUnhealthy() {
        let heard = ["router": HealthCheck.Heard(pid: 10, at: 95.8)]
        #expect(check.problems(expecting: ["router"], heard: heard, now: 100, watchingSince: 0) == ["router silent for 4.2 s"])
    }

    @Test func aRoleNotHeardFromIsExpectedOnlyAfterTheGrace() {
        #expect(check.problems(expecting: ["auth"], heard: [:], now: 107, watchingSince: 100).isEmpty)
        #expect(check.problems(expecting: ["auth"], heard: [:], now: 109, watchingSince: 100) == ["auth not heard from"])
    }
}
