import ChatSupervisor
import ChatTelemetry
import Foundation
import Synchronization

/// What the supervisor shows of the system it runs, to `chatd status` and the metrics
/// endpoint alike: its children's states, and the latest report of every process.
public struct MonitoredSystem: Sendable {
    /// The supervisor's children, in start order (`Supervisor.states()`).
    public let childStates: @Sendable () -> [ChildState]
    public let telemetry: TelemetryCollector
    /// Reports older than this (nanoseconds) are from processes gone or unreachable: unshown.
    public let reportMaxAge: UInt64
    /// Roles expected to report without being children (`chatd monitor`); empty under a
    /// supervisor, whose children's states say what is expected.
    public let expectedRoles: [String]
    /// When the watch began, on the supervisor's clock (`Supervisor.now()`).
    public let watchingSince: Double
    /// Each process's bus timeouts total over the last minute, sampled by `sampleTelemetry`.
    private let timeoutHistory = TimeoutHistoryBox()

    public init(childStates: @escaping @Sendable () -> [ChildState], telemetry: TelemetryCollector, reportMaxAge: UInt64,
                expectedRoles: [String] = [], watchingSince: Double = 0) {
        self.childStates = childStates
        self.telemetry = telemetry
        self.reportMaxAge = reportMaxAge
        self.expectedRoles = expectedRoles
        self.watchingSince = watchingSince
    }

    /// Notes every fresh report's bus timeouts total. Called every few seconds (the admin
    /// socket's timer) and at each status, so the last minute's timeouts are known whenever
    /// status is asked for.
    public func sampleTelemetry() {
        let now = DispatchTime.now().uptimeNanoseconds
        let reports = telemetry.reports(maxAge: reportMaxAge)
        timeoutHistory.history.withLock { history in
            for received in reports.values { history.record(received.report, at: received.receivedAt) }
            history.forget(notSeenSince: now)
        }
    }

    /// The status now (`chatd status`).
    public func status() -> SystemStatus {
        sampleTelemetry()
        let children = childStates()
        let now = DispatchTime.now().uptimeNanoseconds
        let reports = telemetry.reports(maxAge: reportMaxAge).values.map {
            SystemStatus.AgedReport(report: $0.report, ageNanoseconds: now - min(now, $0.receivedAt))
        }
        let history = timeoutHistory.history.withLock { $0 }
        return SystemStatus(children: children, reports: reports, reportMaxAge: reportMaxAge, timeouts: history, now: now)
    }
}

/// A `BusTimeoutHistory` shared by the copies of a `MonitoredSystem`.
private final class TimeoutHistoryBox: Sendable {
    let history = Mutex(BusTimeoutHistory())
}
