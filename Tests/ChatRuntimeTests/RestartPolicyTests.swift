import ChatSupervisor
import Testing

@Suite struct RestartPolicyTests {
    @Test func backoffDoublesPerConsecutiveFailureUpToTheCap() {
        let policy = RestartPolicy(maxRestarts: 100, windowSeconds: 60, initialBackoffSeconds: 0.1, maxBackoffSeconds: 1)
        #expect(policy.backoffSeconds(consecutiveFailures: 1) == 0.1)
        #expect(policy.backoffSeconds(consecutiveFailures: 2) == 0.2)
        #expect(policy.backoffSeconds(consecutiveFailures: 3) == 0.4)
        #expect(policy.backoffSeconds(consecutiveFailures: 10) == 1)
    }

    @Test func backoffStaysAtTheCapForAChildFailingForDays() {
        let policy = RestartPolicy(maxRestarts: 10, windowSeconds: 60, maxBackoffSeconds: 30)
        #expect(policy.backoffSeconds(consecutiveFailures: 1_000_000) == 30)
        #expect(policy.backoffSeconds(consecutiveFailures: Int.max) == 30)
    }
}
