import Foundation
import Synchronization

/// Starts processes from one thread that lives as long as this process.
///
/// A chatd child asks for SIGTERM when its parent exits (`PR_SET_PDEATHSIG`), and Linux sends
/// it when the *thread* that started the child exits, not the whole parent. Dispatch retires
/// an idle worker thread after about five seconds, so children started from a queue (or from
/// Swift concurrency's threads) were told to stop five seconds after they started, over and
/// over, until the supervisor gave up. Whoever starts a process that watches its parent
/// (`--parent-pid`, `--exit-with-parent`) starts it here.
public final class ProcessLauncher: Sendable {
    public static let shared = ProcessLauncher()

    private let pending = Mutex<[@Sendable () -> Void]>([])
    /// Signalled once per item appended to `pending`.
    private let available = DispatchSemaphore(value: 0)

    private init() {
        let thread = Thread { [self] in serve() }
        thread.name = "process-launcher"
        thread.start()
    }

    /// Runs `process.run()` on the launcher's thread and returns once the process has started.
    public func launch(_ process: Process) throws {
        let started = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<Void, any Error>>(.success(()))
        enqueue {
            let result = Result { try process.run() }
            outcome.withLock { $0 = result }
            started.signal()
        }
        started.wait()
        try outcome.withLock { $0 }.get()
    }

    private func enqueue(_ work: @escaping @Sendable () -> Void) {
        pending.withLock { $0.append(work) }
        available.signal()
    }

    private func serve() -> Never {
        while true {
            available.wait()
            let work = pending.withLock { $0.removeFirst() }
            work()
        }
    }
}
