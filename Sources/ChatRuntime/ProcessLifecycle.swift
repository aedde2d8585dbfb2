import Foundation
import Logging

/// The start-up and shutdown plumbing every chatd process shares.
public enum ProcessLifecycle {
    /// Logs to standard error, one line each, labelled with the process role.
    public static func bootstrapLogging(level: String) {
        let parsed = Logger.Level(rawValue: level) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = parsed
            return handler
        }
    }

    /// Calls `handler` once on SIGINT or SIGTERM (on its own queue).
    public static func onTerminationSignal(_ handler: @escaping @Sendable (Int32) -> Void) {
        let queue = DispatchQueue(label: "signals")
        var fired = false
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            source.setEventHandler {
                if fired { return }
                fired = true
                handler(signalNumber)
            }
            source.resume()
            retainedSources.append(source)
        }
    }

    /// A child started by the supervisor exits when the supervisor is gone, even after SIGKILL,
    /// so no worker outlives its system.
    public static func exitWhenParentDies(expectedParent: Int32, logger: Logger) {
        let thread = Thread {
            while true {
                if getppid() != expectedParent {
                    logger.warning("supervisor is gone; exiting")
                    exit(0)
                }
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
        thread.start()
    }

    nonisolated(unsafe) private static var retainedSources: [DispatchSourceSignal] = []
}
