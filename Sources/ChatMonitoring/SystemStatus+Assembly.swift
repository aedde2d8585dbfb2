import ChatSupervisor
import ChatTelemetry

extension SystemStatus {
    /// One process's latest report and how old it is (nanoseconds).
    public struct AgedReport: Sendable {
        public let report: TelemetryReport
        public let ageNanoseconds: UInt64

        public init(report: TelemetryReport, ageNanoseconds: UInt64) {
            self.report = report
            self.ageNanoseconds = ageNanoseconds
        }
    }

    /// The status from the supervisor's children and the latest reports, at `now` (monotonic
    /// nanoseconds, the clock of `Supervisor.now()` and of the reports' ages).
    ///
    /// A child's figures come only from a report at most `reportMaxAge` old whose pid is the
    /// child's current one: a report from before a restart, or from a process gone silent,
    /// would show figures of a process that no longer runs. A report under a name the
    /// supervisor does not run is an unsupervised process, listed after the children.
    public init(children: [ChildState], reports: [AgedReport], reportMaxAge: UInt64, timeouts: BusTimeoutHistory, now: UInt64) {
        let seconds = Double(now) / 1e9
        var fresh: [String: TelemetryReport] = [:]
        for aged in reports where aged.ageNanoseconds <= reportMaxAge { fresh[aged.report.process] = aged.report }
        var processes: [Process] = []
        var sessions = 0
        for child in children {
            let uptime = child.uptimeSeconds(at: seconds)
            var pid: Int32?
            if case .running(let running, _) = child.phase { pid = running }
            let report = fresh[child.name].flatMap { $0.pid == pid ? $0 : nil }
            let figures = report.map { ReportedFigures($0, timeouts: timeouts, now: now, startedWithinWindow: (uptime ?? 0) < 60) }
            sessions = ReportedFigures.adding(sessions, Double(figures?.sessionsOnline ?? 0))
            processes.append(Process(
                name: child.name, role: Self.role(of: child.name), pid: pid, state: child.status(at: seconds).rawValue,
                uptimeSeconds: uptime, restarts: child.restarts,
                requestsInFlight: figures?.requestsInFlight, busTimeoutsLastMinute: figures?.busTimeoutsLastMinute,
                sessionsOnline: figures?.sessionsOnline, partitions: figures?.partitions,
                partitionsWaiting: figures?.partitionsWaiting, mapEpoch: figures?.mapEpoch))
        }
        let supervised = Set(children.map(\.name))
        // A role run on its own reports as `<role>-<pid>`; a report under a child's plain name
        // that is no child now is from one just retired (a storage worker removed), not shown.
        let unsupervised = fresh.values.filter { !supervised.contains($0.process) && $0.process.hasSuffix("-\($0.pid)") }
        for report in unsupervised.sorted(by: { $0.process < $1.process }) {
            let figures = ReportedFigures(report, timeouts: timeouts, now: now, startedWithinWindow: false)
            sessions = ReportedFigures.adding(sessions, Double(figures.sessionsOnline ?? 0))
            processes.append(Process(
                name: report.process, role: Self.role(of: report.process), pid: report.pid, state: Process.unsupervised,
                uptimeSeconds: nil, restarts: nil,
                requestsInFlight: figures.requestsInFlight, busTimeoutsLastMinute: figures.busTimeoutsLastMinute,
                sessionsOnline: figures.sessionsOnline, partitions: figures.partitions,
                partitionsWaiting: figures.partitionsWaiting, mapEpoch: figures.mapEpoch))
        }
        self.init(processes: processes, sessionsOnline: sessions)
    }

    /// `storage` for `storage-0`, and for `storage-0-4242` (a worker run on its own): a name
    /// less its worker index and pid.
    static func role(of name: String) -> String {
        var name = Substring(name)
        while let dash = name.lastIndex(of: "-"), name.index(after: dash) < name.endIndex,
              name[name.index(after: dash)...].allSatisfy({ $0.isASCII && $0.isNumber }) {
            name = name[..<dash]
        }
        return String(name)
    }

    /// The metric names status reads (docs/operations.md, Metrics).
    enum MetricName {
        static let requestsInFlight = "chat_bus_requests_in_flight"
        static let busTimeouts = "chat_bus_timeouts_total"
        static let sessionsOnline = "chat_sessions_online"
        static let partitionOwned = "chat_storage_partition_owned"
        static let partitionWaiting = "chat_storage_partition_waiting"
        static let mapEpoch = "chat_storage_map_epoch"
    }

    /// What status shows of one report; a figure the report lacks is nil.
    private struct ReportedFigures {
        var requestsInFlight: Int?
        var busTimeoutsLastMinute: Int?
        var sessionsOnline: Int?
        var partitions: [Int]?
        var partitionsWaiting: [Int]?
        var mapEpoch: Int?

        init(_ report: TelemetryReport, timeouts: BusTimeoutHistory, now: UInt64, startedWithinWindow: Bool) {
            for sample in MetricsExposition.samples(report.metrics) where sample.value.isFinite {
                switch sample.name {
                case MetricName.requestsInFlight:
                    requestsInFlight = Self.adding(requestsInFlight ?? 0, sample.value)
                case MetricName.sessionsOnline:
                    sessionsOnline = Self.adding(sessionsOnline ?? 0, sample.value)
                case MetricName.partitionOwned:
                    var owned = partitions ?? []
                    if sample.value > 0, let partition = sample.labels["partition"].flatMap({ Int($0) }) { owned.append(partition) }
                    partitions = owned
                case MetricName.partitionWaiting:
                    var waiting = partitionsWaiting ?? []
                    if sample.value > 0, let partition = sample.labels["partition"].flatMap({ Int($0) }) { waiting.append(partition) }
                    partitionsWaiting = waiting
                case MetricName.mapEpoch:
                    mapEpoch = Self.adding(0, sample.value)
                default:
                    break
                }
            }
            partitions?.sort()
            partitionsWaiting?.sort()
            busTimeoutsLastMinute = timeouts.timeoutsInWindow(process: report.process, pid: report.pid, now: now,
                                                              startedWithinWindow: startedWithinWindow)
        }

        /// `total` plus a reported value, kept within ±1e15: reports come from whoever reaches
        /// the telemetry endpoint, and `Int(1e300)`, or a sum of many 1e15s, would crash the
        /// supervisor.
        static func adding(_ total: Int, _ value: Double) -> Int {
            let sum = Double(total) + value
            return sum.isFinite ? Int(min(max(sum, -1e15), 1e15)) : total
        }
    }
}

extension BusTimeoutHistory {
    /// Notes the bus timeouts total of `report`, if it has any.
    public mutating func record(_ report: TelemetryReport, at now: UInt64) {
        let totals = MetricsExposition.samples(report.metrics).filter { $0.name == SystemStatus.MetricName.busTimeouts && $0.value.isFinite }
        guard !totals.isEmpty else { return }
        record(process: report.process, pid: report.pid, total: totals.reduce(0) { $0 + $1.value }, at: now)
    }
}
