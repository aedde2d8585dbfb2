import ChatSupervisor
import Testing

/// One child's restarts as a transcript: times in seconds, no processes, no sleeps.
@Suite struct ChildStateTests {
    private let policy = RestartPolicy(maxRestarts: 2, windowSeconds: 10, initialBackoffSeconds: 0.1,
                                       maxBackoffSeconds: 1, healthyAfterSeconds: 5)

    @Test func startsStoppedThenRuns() {
        var state = ChildState(name: "auth", policy: policy)
        #expect(state.status(at: 0) == .stopped)
        #expect(state.uptimeSeconds(at: 0) == nil)
        state.started(pid: 42, at: 1)
        #expect(state.phase == .running(pid: 42, since: 1))
        #expect(state.status(at: 3) == .running)
        #expect(state.uptimeSeconds(at: 3) == 2)
        #expect(state.restarts == 0)
    }

    @Test func crashesBackOffThenFailPastTheIntensityAndKeepRestartingAtTheCap() {
        var state = ChildState(name: "auth", policy: policy)
        state.started(pid: 1, at: 0)
        #expect(state.exited(at: 1) == .init(afterSeconds: 0.1, failing: false, restartsInWindow: 1))
        #expect(state.status(at: 1) == .backingOff)
        #expect(state.awaitsRestart)
        state.started(pid: 2, at: 1.1)
        #expect(state.exited(at: 2) == .init(afterSeconds: 0.2, failing: false, restartsInWindow: 2))
        state.started(pid: 3, at: 2.2)
        // The third restart within 10 s is past max_restarts (2): failing, at the capped backoff.
        #expect(state.exited(at: 3) == .init(afterSeconds: 1, failing: true, restartsInWindow: 3))
        #expect(state.status(at: 3) == .failing)
        #expect(state.awaitsRestart)
        state.started(pid: 4, at: 4)
        #expect(state.status(at: 4) == .failing, "running again, but still restarted too often")
        #expect(state.exited(at: 5) == .init(afterSeconds: 1, failing: true, restartsInWindow: 4))
        #expect(state.restarts == 4)
    }

    @Test func failingEndsOnceOldRestartsLeaveTheWindow() {
        var state = ChildState(name: "router", policy: policy)
        state.started(pid: 1, at: 0)
        for second in 1...3 {
            _ = state.exited(at: Double(second))
            state.started(pid: Int32(second + 1), at: Double(second))
        }
        #expect(state.status(at: 3.5) == .failing)
        // At 12.5 only the restart at 3 s is within 10 s.
        #expect(state.status(at: 12.5) == .running)
        #expect(state.exited(at: 12.5) == .init(afterSeconds: 0.1, failing: false, restartsInWindow: 2))
    }

    @Test func aChildThatStayedUpLongEnoughStartsItsBackoffOver() {
        var state = ChildState(name: "storage-1", policy: RestartPolicy(maxRestarts: 10, windowSeconds: 10, healthyAfterSeconds: 5))
        state.started(pid: 1, at: 0)
        _ = state.exited(at: 0.5)
        state.started(pid: 2, at: 0.6)
        #expect(state.exited(at: 1).afterSeconds == 0.2)
        state.started(pid: 3, at: 1.2)
        // Up 5 s (healthyAfterSeconds): the next crash is a first failure again.
        #expect(state.exited(at: 6.2).afterSeconds == 0.1)
    }

    @Test func aChildThatCannotBeStartedBacksOffLikeOneThatCrashed() {
        var state = ChildState(name: "gateway", policy: policy)
        #expect(state.exited(at: 0).afterSeconds == 0.1)
        #expect(state.exited(at: 0.1).afterSeconds == 0.2)
        #expect(state.status(at: 0.2) == .backingOff)
    }

    @Test func aStoppedChildIsNotRestarted() {
        var state = ChildState(name: "auth", policy: policy)
        state.started(pid: 1, at: 0)
        _ = state.exited(at: 1)
        state.stopped()
        #expect(!state.awaitsRestart)
        #expect(state.status(at: 1) == .stopped)
    }
}
