import CLinux
import Foundation
import Logging
import Synchronization

/// The start-up and shutdown plumbing every chatd process shares.
public enum ProcessLifecycle {
    /// The level and format every logger of this process follows; a reload updates it.
    public static let logSettings = LogSettings()

    /// Logs to standard error, one line each, labelled with the process role, at the level and
    /// in the format of `configuration` until a reload changes them (`logSettings`).
    public static func bootstrapLogging(_ configuration: ChatConfiguration) {
        // A log read through a pipe whose reader is gone must cost lines, not the process:
        // SIGPIPE's default would end it (and systemd would count that as a clean exit).
        signal(SIGPIPE, SIG_IGN)
        logSettings.update(from: configuration)
        LoggingSystem.bootstrap { label in LiveLogHandler(label: label, settings: logSettings) }
    }

    /// Calls `stop` once on SIGINT or SIGTERM (on its own queue), after logging which came.
    public static func onTerminationSignal(logger: Logger, _ stop: @escaping @Sendable () -> Void) {
        let queue = DispatchQueue(label: "signals")
        let fired = Atomic<Bool>(false)
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            // The handler holds its source, for the life of the process: a released source stops delivering.
            source.setEventHandler { [source] in
                _ = source
                if fired.exchange(true, ordering: .relaxed) { return }
                logger.info("stopping on signal", metadata: ["process.signal": "\(signalNumber)"])
                stop()
            }
            source.resume()
        }
    }

    /// Catches SIGHUP, whose default action would end the process, and calls `reload` for each
    /// (on its own queue) after logging `reload requested`: a hang-up, or an operator's
    /// habitual "reload", must never stop the service.
    public static func onReloadSignal(logger: Logger, _ reload: @escaping @Sendable () -> Void) {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "reload-signal"))
        // The handler holds its source, for the life of the process: a released source stops delivering.
        source.setEventHandler { [source] in
            _ = source
            logger.info("reload requested", metadata: ["process.signal": "\(SIGHUP)"])
            reload()
        }
        source.resume()
    }

    /// Has the kernel send SIGTERM when the parent exits, even by SIGKILL, so that the process
    /// stops as when told to (`onTerminationSignal`) and none outlives its system. Call it
    /// before any work starts: a SIGTERM that comes before `onTerminationSignal` ends the
    /// process at once, which is right only while there is nothing to finish.
    ///
    /// The parent must start this process from a thread that lives as long as it does
    /// (`ProcessLauncher`): the kernel sends the signal when that thread exits.
    public static func terminateWhenParentDies(expectedParent: Int32, logger: Logger) {
        guard set_parent_death_signal(SIGTERM) == 0 else {
            logger.error("cannot ask to be told of the parent's exit; will outlive it", metadata: ["process.errno": "\(errno)"])
            return
        }
        // A parent that died before the request went unnoticed: this process has already been
        // handed to another (init or a subreaper), whose exit is not the one awaited.
        if getppid() != expectedParent {
            logger.warning("parent is gone already; exiting", metadata: ["process.expected_parent": "\(expectedParent)"])
            exit(0)
        }
    }
}
