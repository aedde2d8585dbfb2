import ChatSupervisor
import ChatTelemetry

/// What the supervisor shows of the system it runs, to `chatd status` and the metrics
/// endpoint alike: its children's states, and the latest report of every process.
public struct MonitoredSystem: Sendable {
    /// The supervisor's children, in start order (`Supervisor.states()`).
    public let childStates: @Sendable () -> [ChildState]
    public let telemetry: TelemetryCollector
    /// Reports older than this (nanoseconds) are from processes gone or unreachable: unshown.
    public let reportMaxAge: UInt64

    public init(childStates: @escaping @Sendable () -> [ChildState], telemetry: TelemetryCollector, reportMaxAge: UInt64) {
        self.childStates = childStates
        self.telemetry = telemetry
        self.reportMaxAge = reportMaxAge
    }
}
