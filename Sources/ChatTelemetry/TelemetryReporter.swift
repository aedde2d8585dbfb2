import Foundation
import Logging
import Synchronization
import ZeroMQ

/// Sends this process's `TelemetryReport` to the supervisor's collector every `interval`, on a
/// thread of its own, from its start until the process ends.
///
/// Telemetry must never hold up the work it describes: the socket keeps at most one report
/// queued and drops the rest, and no report is resent. A collector that is not there (the
/// supervisor restarting, a role run alone without one) loses reports, nothing else.
public final class TelemetryReporter: Sendable {
    private let endpoint: String
    private let process: String
    private let interval: Duration
    private let metrics: @Sendable () -> String
    private let isStuck: @Sendable () -> Bool
    private let logger: Logger
    private let stopped = Atomic<Bool>(false)

    /// `isStuck`: true while the process's own work has stopped moving (its bus loop has not
    /// woken up for long). No report is sent then: this thread runs on regardless, and its
    /// reports would tell the supervisor all is well.
    public init(endpoint: String, process: String, interval: Duration, logger: Logger,
                isStuck: @escaping @Sendable () -> Bool = { false }, metrics: @escaping @Sendable () -> String) {
        self.endpoint = endpoint
        self.process = process
        self.interval = interval
        self.logger = logger
        self.isStuck = isStuck
        self.metrics = metrics
    }

    /// Connects (ZeroMQ connects in the background, so this fails only on a malformed
    /// endpoint) and starts sending, the first report at once.
    public func start() throws {
        let context = Context()
        let socket = try context.socket(.push)
        try socket.setSendHighWaterMark(1)
        try socket.setLinger(milliseconds: 0)
        try socket.setReconnectInterval(milliseconds: 100)
        try socket.connect(endpoint)
        let owned = ThreadOwnedSocket(context: context, socket: socket)
        let thread = Thread { [self] in
            send(on: owned.socket)
            owned.close()
        }
        thread.name = "telemetry"
        thread.start()
    }

    /// Ends the sending thread after its current wait (for tests; processes just exit).
    public func stop() {
        stopped.store(true, ordering: .relaxed)
    }

    /// What the sending thread remembers from one report to the next.
    private struct Progress {
        var stuckReadings = 0
        var wasStuck = false
        var oversizeReported = false
    }

    private func send(on socket: Socket) {
        var progress = Progress()
        while !stopped.load(ordering: .relaxed) {
            report(on: socket, &progress)
            Thread.sleep(forTimeInterval: Self.seconds(interval))
        }
    }

    private func report(on socket: Socket, _ progress: inout Progress) {
        // Twice in a row: a process resumed after a pause (SIGCONT) may be read before its
        // loop has woken up again.
        progress.stuckReadings = isStuck() ? progress.stuckReadings + 1 : 0
        let stuck = progress.stuckReadings >= 2
        if stuck != progress.wasStuck {
            progress.wasStuck = stuck
            if stuck {
                logger.critical("telemetry: this process is stuck (its bus loop or a commit); reporting nothing until it moves again")
            } else {
                logger.notice("telemetry: this process moves again; reporting")
            }
        }
        guard !stuck else { return }
        let frame = TelemetryReport(process: process, pid: getpid(), metrics: metrics()).encoded()
        // The collector would drop the connection for it; what is left to do is say so.
        guard frame.count <= TelemetryReport.maxBytes else {
            if !progress.oversizeReported {
                progress.oversizeReported = true
                logger.error("telemetry: report too large; not sent", metadata: ["telemetry.bytes": "\(frame.count)"])
            }
            return
        }
        do {
            _ = try frame.withUnsafeBytes { try socket.send(identity: nil, payload: $0, blocking: false) }
        } catch {
            logger.warning("telemetry: report not sent", metadata: ["telemetry.error": "\(error)"])
        }
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
