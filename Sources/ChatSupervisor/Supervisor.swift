import ChatRuntime
import Foundation
import Logging

/// Starts the children in order, restarts any that exits, and stops them all on request:
/// SIGTERM first, SIGKILL after the grace period. It holds no business logic.
///
/// Unchecked: its mutable state (and the children's) is touched only on the serial `queue`,
/// but for `exitCode`, read after `finished` is signalled (which orders the write before it).
public final class Supervisor: @unchecked Sendable {
    /// Not Sendable: closures that run later on `queue` name a child by its `index`.
    private final class Child {
        let spec: ChildSpec
        let index: Int
        var process: Process?
        var consecutiveFailures = 0
        var startedAt = 0.0

        init(spec: ChildSpec, index: Int) {
            self.spec = spec
            self.index = index
        }
    }

    private let executable: URL
    private let children: [Child]
    private var policy: RestartPolicy
    private let graceSeconds: Double
    private let logger: Logger
    private let queue = DispatchQueue(label: "supervisor")
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)
    private var exitCode: Int32 = 0

    /// A child that stays up this long is healthy again: its backoff starts over.
    private let healthyAfterSeconds = 10.0

    public init(executable: URL, children: [ChildSpec], policy: RestartPolicy, graceSeconds: Double, logger: Logger) {
        self.executable = executable
        self.children = children.enumerated().map { Child(spec: $1, index: $0) }
        self.policy = policy
        self.graceSeconds = graceSeconds
        self.logger = logger
    }

    /// Runs until `stop()` or until it gives up; returns the exit code for the supervisor.
    public func run() -> Int32 {
        queue.async { [self] in
            for child in children { start(child) }
        }
        finished.wait()
        return exitCode
    }

    public func stop() {
        queue.async { [self] in shutDown(exitCode: 0) }
    }

    private func start(_ child: Child) {
        guard !stopping else { return }
        let process = Process()
        process.executableURL = executable
        process.arguments = child.spec.arguments
        let index = child.index
        process.terminationHandler = { [weak self] finished in
            guard let self else { return }
            self.queue.async { self.exited(self.children[index], process: finished) }
        }
        do {
            // Not from this queue's thread: children stop when the thread that started them exits.
            try ProcessLauncher.shared.launch(process)
            child.process = process
            child.startedAt = Self.now()
            logger.info("started child", metadata: ["supervisor.child": "\(child.spec.name)", "supervisor.pid": "\(process.processIdentifier)"])
        } catch {
            logger.error("could not start child", metadata: ["supervisor.child": "\(child.spec.name)", "supervisor.error": "\(error)"])
            scheduleRestart(child)
        }
    }

    private func exited(_ child: Child, process: Process) {
        guard child.process === process else { return }
        child.process = nil
        if stopping { return checkAllStopped() }
        let reason = process.terminationReason == .uncaughtSignal ? "signal" : "exit"
        logger.warning("child exited", metadata: [
            "supervisor.child": "\(child.spec.name)",
            "supervisor.reason": "\(reason) \(process.terminationStatus)",
        ])
        if Self.now() - child.startedAt > healthyAfterSeconds { child.consecutiveFailures = 0 }
        scheduleRestart(child)
    }

    private func scheduleRestart(_ child: Child) {
        child.consecutiveFailures += 1
        switch policy.childExited(at: Self.now(), consecutiveFailures: child.consecutiveFailures) {
        case .restart(let delay):
            logger.info("restarting child", metadata: ["supervisor.child": "\(child.spec.name)", "supervisor.delay_s": "\(delay)"])
            let index = child.index
            queue.asyncAfter(deadline: .now() + delay) { [self] in
                let child = children[index]
                if child.process == nil { start(child) }
            }
        case .giveUp:
            logger.critical("too many restarts; giving up and stopping everything", metadata: [
                "supervisor.max_restarts": "\(policy.maxRestarts)",
                "supervisor.window_s": "\(policy.windowSeconds)",
            ])
            shutDown(exitCode: 1)
        }
    }

    private func shutDown(exitCode: Int32) {
        guard !stopping else { return }
        stopping = true
        self.exitCode = exitCode
        // Front first: the gateway stops taking commands before the workers behind it go.
        for child in children.reversed() {
            if let process = child.process { kill(process.processIdentifier, SIGTERM) }
        }
        queue.asyncAfter(deadline: .now() + graceSeconds) { [self] in
            for child in children {
                if let process = child.process {
                    logger.warning("child ignored SIGTERM; killing", metadata: ["supervisor.child": "\(child.spec.name)"])
                    kill(process.processIdentifier, SIGKILL)
                }
            }
        }
        checkAllStopped()
    }

    private func checkAllStopped() {
        guard stopping, children.allSatisfy({ $0.process == nil }) else { return }
        logger.info("all children stopped")
        finished.signal()
    }

    private static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
