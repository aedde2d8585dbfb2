import ChatRuntime
import Foundation
import Logging
import Synchronization

/// Starts the children in order, restarts any that exits, and stops them all on request:
/// SIGTERM first, SIGKILL after the grace period. It holds no business logic. Restarts are
/// counted per child and never end in giving up (`RestartPolicy`): a child crashing in a loop
/// is reported as failing and restarted at the capped backoff while its siblings run on, and
/// the supervisor exits only when told to stop.
///
/// Unchecked: its mutable state (and the children's) is touched only on the serial `queue`;
/// other threads read the children's states from `published`, a copy made on each change.
public final class Supervisor: @unchecked Sendable {
    /// Not Sendable: closures that run later on `queue` name a child by its `id`.
    private final class Child {
        let spec: ChildSpec
        /// Unique for the supervisor's life: children come and go (`reconcile`).
        let id: Int
        var process: Process?
        var state: ChildState
        /// Stopped on purpose (`reconcile`): not restarted when it exits, then forgotten.
        var retiring = false

        init(spec: ChildSpec, id: Int, policy: RestartPolicy) {
            self.spec = spec
            self.id = id
            state = ChildState(name: spec.name, policy: policy)
        }
    }

    private let executable: URL
    private var children: [Child]
    private var nextChildId: Int
    private var policy: RestartPolicy
    private var graceSeconds: Double
    private let logger: Logger
    private let queue = DispatchQueue(label: "supervisor")
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)
    /// The children's states as of the last change, for status and health checks, which must
    /// not wait on `queue` (it starts processes, and a wait there would stall their event loop).
    private let published: Mutex<[ChildState]>

    public init(executable: URL, children: [ChildSpec], policy: RestartPolicy, graceSeconds: Double, logger: Logger) {
        self.executable = executable
        self.children = children.enumerated().map { Child(spec: $1, id: $0, policy: policy) }
        nextChildId = children.count
        self.policy = policy
        self.graceSeconds = graceSeconds
        self.logger = logger
        published = Mutex(self.children.map(\.state))
    }

    /// Runs until `stop()` has stopped every child.
    public func run() {
        queue.async { [self] in
            for child in children { start(child) }
        }
        finished.wait()
    }

    public func stop() {
        queue.async { [self] in shutDown() }
    }

    /// Sends `signal` to every child running now (SIGHUP: reload your configuration). A child
    /// backing off gets none; it reads the configuration anew when it starts.
    public func signalChildren(_ signal: Int32) {
        queue.async { [self] in
            guard !stopping else { return }
            for child in children {
                if let process = child.process { kill(process.processIdentifier, signal) }
            }
        }
    }

    /// Restarts, and shutdowns, from now on follow `policy` and `graceSeconds` (a reload).
    public func adopt(policy: RestartPolicy, graceSeconds: Double) {
        queue.async { [self] in
            for child in children { child.state.adopt(policy) }
            publish()
            self.policy = policy
            self.graceSeconds = graceSeconds
        }
    }

    /// Makes the children those of `specs`, by name: starts the ones not running yet, and stops
    /// the ones no longer named (SIGTERM, SIGKILL after the grace period), which are then
    /// neither restarted nor counted as failing, since a planned stop is no crash; the others
    /// are left alone. For storage workers added or removed by a reload.
    /// `retireAfter`: seconds a retiring child keeps running before its SIGTERM (a storage
    /// worker answers requests with the new map meanwhile, so that gateways learn it).
    public func reconcile(_ specs: [ChildSpec], retireAfter: Double = 0) {
        queue.async { [self] in
            guard !stopping else { return }
            let wanted = Set(specs.map(\.name))
            for child in children where !wanted.contains(child.spec.name) && !child.retiring {
                retire(child, after: retireAfter)
            }
            for spec in specs where !children.contains(where: { $0.spec.name == spec.name && !$0.retiring }) {
                let child = Child(spec: spec, id: nextChildId, policy: policy)
                nextChildId += 1
                children.append(child)
                logger.info("adding child", metadata: ["supervisor.child": "\(spec.name)"])
                start(child)
            }
            // In the order asked (a new storage worker before the gateway, which stops first),
            // the retiring ones last.
            let order = Dictionary(specs.enumerated().map { ($1.name, $0) }) { first, _ in first }
            func rank(_ child: Child) -> Int { child.retiring ? .max : order[child.spec.name] ?? .max }
            children.sort { rank($0) < rank($1) }
            publish()
        }
    }

    private func retire(_ child: Child, after delay: Double) {
        child.retiring = true
        guard child.process != nil else {
            children.removeAll { $0 === child }
            return logger.info("child retired", metadata: ["supervisor.child": "\(child.spec.name)"])
        }
        logger.info("retiring child", metadata: ["supervisor.child": "\(child.spec.name)", "supervisor.delay_s": "\(delay)"])
        let id = child.id
        queue.asyncAfter(deadline: .now() + delay) { [self] in
            guard let child = children.first(where: { $0.id == id }), let process = child.process else { return }
            kill(process.processIdentifier, SIGTERM)
            queue.asyncAfter(deadline: .now() + graceSeconds) { [self] in
                guard let child = children.first(where: { $0.id == id }), let process = child.process else { return }
                logger.warning("child ignored SIGTERM; killing", metadata: ["supervisor.child": "\(child.spec.name)"])
                kill(process.processIdentifier, SIGKILL)
            }
        }
    }

    /// A copy of every child's state, in start order, for a status report: from any thread,
    /// without waiting.
    public func states() -> [ChildState] {
        published.withLock { $0 }
    }

    private func start(_ child: Child) {
        guard !stopping else { return }
        let process = Process()
        process.executableURL = executable
        process.arguments = child.spec.arguments
        let id = child.id
        process.terminationHandler = { [weak self] finished in
            guard let self else { return }
            self.queue.async {
                guard let child = self.children.first(where: { $0.id == id }) else { return }
                self.exited(child, process: finished)
            }
        }
        do {
            // Not from this queue's thread: children stop when the thread that started them exits.
            try ProcessLauncher.shared.launch(process)
            child.process = process
            child.state.started(pid: process.processIdentifier, at: Self.now())
            publish()
            logger.info("started child", metadata: ["supervisor.child": "\(child.spec.name)", "supervisor.pid": "\(process.processIdentifier)"])
        } catch {
            logger.error("could not start child", metadata: ["supervisor.child": "\(child.spec.name)", "supervisor.error": "\(error)"])
            scheduleRestart(child)
        }
    }

    private func exited(_ child: Child, process: Process) {
        guard child.process === process else { return }
        child.process = nil
        if child.retiring {
            children.removeAll { $0 === child }
            publish()
            logger.info("child retired", metadata: ["supervisor.child": "\(child.spec.name)"])
            return checkAllStopped()
        }
        if stopping {
            child.state.stopped()
            publish()
            return checkAllStopped()
        }
        let reason = process.terminationReason == .uncaughtSignal ? "signal" : "exit"
        logger.warning("child exited", metadata: [
            "supervisor.child": "\(child.spec.name)",
            "supervisor.reason": "\(reason) \(process.terminationStatus)",
        ])
        scheduleRestart(child)
    }

    private func scheduleRestart(_ child: Child) {
        let restart = child.state.exited(at: Self.now())
        publish()
        let metadata: Logger.Metadata = [
            "supervisor.child": "\(child.spec.name)",
            "supervisor.restarts": "\(restart.restartsInWindow)",
            "supervisor.window_s": "\(child.state.policy.windowSeconds)",
            "supervisor.delay_s": "\(restart.afterSeconds)",
        ]
        if restart.failing {
            // Past the restart intensity the siblings keep running: the operator is told, and
            // this child is tried again at the capped backoff for as long as it takes.
            logger.warning("child failing; restarting at the capped backoff", metadata: metadata)
        } else {
            logger.info("restarting child", metadata: metadata)
        }
        let id = child.id
        queue.asyncAfter(deadline: .now() + restart.afterSeconds) { [self] in
            guard let child = children.first(where: { $0.id == id }), !child.retiring else { return }
            if child.process == nil, child.state.awaitsRestart { start(child) }
        }
    }

    private func shutDown() {
        guard !stopping else { return }
        stopping = true
        for child in children where child.process == nil { child.state.stopped() }
        publish()
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

    /// On `queue`, after each change of a child's state.
    private func publish() {
        let states = children.map(\.state)
        published.withLock { $0 = states }
    }

    /// The clock of `ChildState`'s times: seconds since boot, monotonic.
    public static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
