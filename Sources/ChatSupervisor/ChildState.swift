/// What the supervisor knows of one child: whether it runs, since when, how often it was
/// restarted, and whether it is failing. A value with time passed in (seconds on a monotonic
/// clock), so the restart rules are tested without processes and a status report can read
/// a copy.
public struct ChildState: Sendable, Equatable {
    public enum Phase: Sendable, Equatable {
        /// Not started yet, or stopped for good because the supervisor is stopping.
        case stopped
        case running(pid: Int32, since: Double)
        /// Exited (or could not be started); to be started again at `until`.
        case backingOff(until: Double)
    }

    /// What an operator is shown.
    public enum Status: String, Sendable, Equatable {
        case stopped
        case running
        case backingOff = "backing off"
        /// Restarted more than the policy's `maxRestarts` within its window; still restarted.
        case failing
    }

    /// When to start the child again after an exit.
    public struct Restart: Sendable, Equatable {
        public let afterSeconds: Double
        /// Past the restart intensity: reported, and restarted at the capped backoff.
        public let failing: Bool
        /// Restarts within the policy's window, this one included.
        public let restartsInWindow: Int

        public init(afterSeconds: Double, failing: Bool, restartsInWindow: Int) {
            self.afterSeconds = afterSeconds
            self.failing = failing
            self.restartsInWindow = restartsInWindow
        }
    }

    public let name: String
    public private(set) var policy: RestartPolicy
    public private(set) var phase: Phase = .stopped
    /// Every restart since the supervisor started.
    public private(set) var restarts = 0
    private var consecutiveFailures = 0
    /// When each restart within the window was decided, oldest first.
    private var recentRestarts: [Double] = []

    public init(name: String, policy: RestartPolicy) {
        self.name = name
        self.policy = policy
    }

    public mutating func started(pid: Int32, at now: Double) {
        phase = .running(pid: pid, since: now)
    }

    /// The child exited unexpectedly (or could not be started, with no `running` phase before).
    public mutating func exited(at now: Double) -> Restart {
        if case .running(_, let since) = phase, now - since >= policy.healthyAfterSeconds { consecutiveFailures = 0 }
        consecutiveFailures += 1
        restarts += 1
        recentRestarts = recentRestarts.filter { now - $0 < policy.windowSeconds } + [now]
        let failing = recentRestarts.count > policy.maxRestarts
        let delay = failing ? policy.maxBackoffSeconds : policy.backoffSeconds(consecutiveFailures: consecutiveFailures)
        phase = .backingOff(until: now + delay)
        return Restart(afterSeconds: delay, failing: failing, restartsInWindow: recentRestarts.count)
    }

    /// Counts restarts and backoffs by `policy` from now on (a reload); the restarts already
    /// counted stay, judged by the new window.
    public mutating func adopt(_ policy: RestartPolicy) {
        self.policy = policy
    }

    /// The child exited because the supervisor is stopping it: not to be restarted.
    public mutating func stopped() {
        phase = .stopped
    }

    public func status(at now: Double) -> Status {
        if case .stopped = phase { return .stopped }
        if recentRestarts.filter({ now - $0 < policy.windowSeconds }).count > policy.maxRestarts { return .failing }
        if case .backingOff = phase { return .backingOff }
        return .running
    }

    /// How long the child has been running, nil while it is not.
    public func uptimeSeconds(at now: Double) -> Double? {
        guard case .running(_, let since) = phase else { return nil }
        return now - since
    }

    /// True when a restart scheduled earlier is still wanted: the child is still waiting to be
    /// started (not already started, nor stopped by a shutdown).
    public var awaitsRestart: Bool {
        if case .backingOff = phase { return true }
        return false
    }
}
