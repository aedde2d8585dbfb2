import ChatTelemetry

extension MonitoredSystem {
    /// The supervisor's process name in the metrics page, beside its children's.
    static let supervisorProcess = "supervisor"

    /// The metrics endpoint's page: the supervisor's figures, then every report younger than
    /// `reportMaxAge` by process name, every sample labelled with its `process`.
    public func metricsPage() -> String {
        let reports = telemetry.reports(maxAge: reportMaxAge)
            // Anyone who reaches the telemetry endpoint can send a report under any name.
            .filter { $0.key != Self.supervisorProcess }
            .sorted { $0.key < $1.key }
            .map { (process: $0.key, metrics: $0.value.report.metrics) }
        return MetricsExposition.merged([(Self.supervisorProcess, SupervisorFigures.text(childStates()))] + reports)
    }

    /// `/healthz`'s lines, one per unhealthy child; none when all is well. `now` on the
    /// supervisor's clock (`Supervisor.now()`, the collector's too, in seconds).
    public func healthProblems(_ check: HealthCheck, now: Double) -> [String] {
        // Every latest report, however old: how long a child has been silent is the point.
        let heard = telemetry.reports(maxAge: .max).mapValues {
            HealthCheck.Heard(pid: $0.report.pid, at: Double($0.receivedAt) / 1e9)
        }
        return check.problems(childStates(), heard: heard, now: now)
            + check.problems(expecting: expectedRoles, heard: heard, now: now, watchingSince: watchingSince)
    }
}
