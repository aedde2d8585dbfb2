/// When to restart a child that exited, and when to give up: Erlang/OTP's restart intensity
/// (at most `maxRestarts` in any `window`) with exponential backoff per child.
public struct RestartPolicy: Sendable {
    public let maxRestarts: Int
    public let windowSeconds: Double
    public let initialBackoffSeconds: Double
    public let maxBackoffSeconds: Double

    private var recentRestarts: [Double] = []

    public init(maxRestarts: Int, windowSeconds: Double, initialBackoffSeconds: Double = 0.1, maxBackoffSeconds: Double = 5) {
        self.maxRestarts = maxRestarts
        self.windowSeconds = windowSeconds
        self.initialBackoffSeconds = initialBackoffSeconds
        self.maxBackoffSeconds = maxBackoffSeconds
    }

    public enum Decision: Equatable, Sendable {
        case restart(afterSeconds: Double)
        case giveUp
    }

    /// Records an unexpected exit at `now` (seconds) of a child that has failed
    /// `consecutiveFailures` times in a row (1 for the first), and decides.
    public mutating func childExited(at now: Double, consecutiveFailures: Int) -> Decision {
        recentRestarts = recentRestarts.filter { now - $0 < windowSeconds }
        guard recentRestarts.count < maxRestarts else { return .giveUp }
        recentRestarts.append(now)
        let exponent = Double(max(0, consecutiveFailures - 1))
        return .restart(afterSeconds: min(maxBackoffSeconds, initialBackoffSeconds * pow2(exponent)))
    }

    private func pow2(_ exponent: Double) -> Double {
        var value = 1.0
        for _ in 0..<Int(min(exponent, 30)) { value *= 2 }
        return value
    }
}
