import Foundation
import Logging
import Synchronization
import ZeroMQ

/// Gathers the `TelemetryReport`s of every process, the latest of each, in the supervisor:
/// its status and metrics endpoint read them from here. Binds `endpoint` (ZeroMQ PULL), and
/// receives on a thread of its own for the life of the process.
public final class TelemetryCollector: Sendable {
    /// A report and when it came (monotonic nanoseconds, `DispatchTime.uptimeNanoseconds`).
    public struct Received: Sendable, Equatable {
        public let report: TelemetryReport
        public let receivedAt: UInt64
    }

    /// Far more processes than any layout runs; with `TelemetryReport.maxBytes`, at most
    /// 128 MiB of reports held, whatever is sent here.
    static let maxProcesses = 128

    private let latest = Mutex<[String: Received]>([:])
    private let logger: Logger

    /// Binds at once, so that a bad or taken endpoint is a start-up error.
    public init(endpoint: String, logger: Logger) throws {
        self.logger = logger
        let context = Context()
        let socket = try context.socket(.pull)
        try socket.setMaxMessageSize(Int64(TelemetryReport.maxBytes))
        // Reports are read as they come; a backlog is only a flood, and the latest matter.
        try socket.setReceiveHighWaterMark(64)
        try socket.setLinger(milliseconds: 0)
        try socket.bind(endpoint)
        let owned = ThreadOwnedSocket(context: context, socket: socket)
        let thread = Thread { [self] in
            receive(on: owned.socket)
            owned.close()
        }
        thread.name = "telemetry-collector"
        thread.start()
    }

    /// The latest report of every process heard from within `maxAge` nanoseconds, by process name.
    public func reports(maxAge: UInt64) -> [String: Received] {
        let now = DispatchTime.now().uptimeNanoseconds
        return latest.withLock { $0 }.filter { now - min(now, $0.value.receivedAt) <= maxAge }
    }

    private func receive(on socket: Socket) {
        var refused = 0
        while true {
            let frames: [[UInt8]]
            do {
                guard let received = try socket.receive(maxFrames: 1) else { continue }
                frames = received
            } catch {
                logger.error("telemetry: receiving stopped", metadata: ["telemetry.error": "\(error)"])
                return
            }
            guard frames.count == 1, let report = TelemetryReport(decoding: frames[0]) else {
                // Anyone who reaches the endpoint can send; a line per 100 refusals is enough.
                if refused % 100 == 0 { logger.warning("telemetry: refused a malformed report", metadata: ["telemetry.refused": "\(refused + 1)"]) }
                refused += 1
                continue
            }
            let received = Received(report: report, receivedAt: DispatchTime.now().uptimeNanoseconds)
            latest.withLock { latest in
                // Names come from the network: past the cap, the longest silent is forgotten.
                if latest[report.process] == nil, latest.count >= Self.maxProcesses,
                   let oldest = latest.min(by: { $0.value.receivedAt < $1.value.receivedAt })?.key {
                    latest.removeValue(forKey: oldest)
                }
                latest[report.process] = received
            }
        }
    }
}
