import ChatSupervisor
import Testing

@Suite struct RestartPolicyTests {
    @Test func backoffDoublesPerConsecutiveFailureUpToTheCap() {
        var policy = RestartPolicy(maxRestarts: 100, windowSeconds: 60, initialBackoffSeconds: 0.1, maxBackoffSeconds: 1)
        #expect(policy.childExited(at: 0, consecutiveFailures: 1) == .restart(afterSeconds: 0.1))
        #expect(policy.childExited(at: 1, consecutiveFailures: 2) == .restart(afterSeconds: 0.2))
        #expect(policy.childExited(at: 2, consecutiveFailures: 3) == .restart(afterSeconds: 0.4))
        #expect(policy.childExited(at: 3, consecutiveFailures: 10) == .restart(afterSeconds: 1))
    }

    @Test func givesUpPastTheIntensity() {
        var policy = RestartPolicy(maxRestarts: 3, windowSeconds: 10)
        for second in 0..<3 { #expect(policy.childExited(at: Double(second), consecutiveFailures: 1) != .giveUp) }
        #expect(policy.childExited(at: 3, consecutiveFailures: 1) == .giveUp)
    }

    @Test func oldRestartsLeaveTheWindow() {
        var policy = RestartPolicy(maxRestarts: 2, windowSeconds: 10)
        _ = policy.childExited(at: 0, consecutiveFailures: 1)
        _ = policy.childExited(at: 1, consecutiveFailures: 1)
        #expect(policy.childExited(at: 20, consecutiveFailures: 1) != .giveUp)
    }
}
