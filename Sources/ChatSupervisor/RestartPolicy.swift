/// How soon to restart a child that exited, and when to call it failing: Erlang/OTP's restart
/// intensity (more than `maxRestarts` in `windowSeconds`), counted per child, with
/// exponential backoff. Unlike OTP the supervisor never gives up: one child crashing in a
/// loop must not take its healthy siblings down, so past the intensity a child is reported
/// as failing and restarted at the capped backoff.
public struct RestartPolicy: Sendable, Equatable {
    public let maxRestarts: Int
    public let windowSeconds: Double
    public let initialBackoffSeconds: Double
    public let maxBackoffSeconds: Double
    /// A child that stays up this long is healthy again: its backoff starts over.
    public let healthyAfterSeconds: Double

    public init(maxRestarts: Int, windowSeconds: Double, initialBackoffSeconds: Double = 0.1,
                maxBackoffSeconds: Double = 30, healthyAfterSeconds: Double = 10) {
        self.maxRestarts = maxRestarts
        self.windowSeconds = windowSeconds
        self.initialBackoffSeconds = initialBackoffSeconds
        self.maxBackoffSeconds = maxBackoffSeconds
        self.healthyAfterSeconds = healthyAfterSeconds
    }

    /// The wait before restarting a child that has failed `consecutiveFailures` times in a
    /// row (1 for the first): doubling from the initial backoff, never past the cap.
    public func backoffSeconds(consecutiveFailures: Int) -> Double {
        var delay = initialBackoffSeconds
        // Bounded, so a child failing for days cannot overflow the doubling.
        for _ in 1..<max(1, min(consecutiveFailures, 64)) where delay < maxBackoffSeconds { delay *= 2 }
        return min(maxBackoffSeconds, delay)
    }
}
