import Foundation

/// Starts processes from one thread that lives as long as this process.
///
/// A chatd child asks for SIGTERM when its parent exits (`PR_SET_PDEATHSIG`), and Linux sends
/// it when the *thread* that started the child exits, not the whole parent. Dispatch retires
/// an idle worker thread after about five seconds, so children started from a queue (or from
/// Swift concurrency's threads) were told to stop five seconds after they started, over and
/// over, until the supervisor gave up. Whoever starts a process that watches its parent
/// (`--parent-pid`, `--exit-with-parent`) starts it here.
public final class ProcessLauncher: @unchecked Sendable {
    public static let shared = ProcessLauncher()

    private let condition = NSCondition()
    private var pending: [() -> Void] = []

    private init() {
        let thread = Thread { [self] in serve() }
        thread.name = "process-launcher"
        thread.start()
    }

    /// Runs `process.run()` on the launcher's thread and returns once the process has started.
    public func launch(_ process: Process) throws {
        let started = DispatchSemaphore(value: 0)
        var outcome: Result<Void, Error> = .success(())
        enqueue {
            outcome = Result { try process.run() }
            started.signal()
        }
        started.wait()
        try outcome.get()
    }

    private func enqueue(_ work: @escaping () -> Void) {
        condition.lock()
        pending.append(work)
        condition.signal()
        condition.unlock()
    }

    private func serve() -> Never {
        while true {
            condition.lock()
            while pending.isEmpty { condition.wait() }
            let work = pending.removeFirst()
            condition.unlock()
            work()
        }
    }
}
