import ChatMonitoring
import ChatSupervisor
import ChatTelemetry
import Foundation
import Testing

/// The status assembled from children's states and hand-written reports: no processes, no sockets.
@Suite struct SystemStatusTests {
    private let policy = RestartPolicy(maxRestarts: 2, windowSeconds: 60, maxBackoffSeconds: 1)
    private let second: UInt64 = 1_000_000_000
    private let maxAge: UInt64 = 3_000_000_000

    private func child(_ name: String, pid: Int32, since: Double) -> ChildState {
        var state = ChildState(name: name, policy: policy)
        state.started(pid: pid, at: since)
        return state
    }

    private func report(_ process: String, pid: Int32, _ metrics: String, age: UInt64 = 0) -> SystemStatus.AgedReport {
        SystemStatus.AgedReport(report: TelemetryReport(process: process, pid: pid, metrics: metrics), ageNanoseconds: age)
    }

    @Test func everyChildWithItsStateAndItsOwnReportsFigures() throws {
        var crashed = child("storage-1", pid: 30, since: 10)
        _ = crashed.exited(at: 95)
        crashed.started(pid: 31, at: 96)
        let children = [child("auth", pid: 10, since: 10), child("storage-0", pid: 20, since: 10), crashed, child("gateway", pid: 40, since: 10)]
        let reports = [
            report("auth", pid: 10, "chat_bus_requests_in_flight 0\n"),
            report("storage-0", pid: 20, """
                # TYPE chat_storage_partition_owned gauge
                chat_storage_partition_owned{partition="2"} 1
                chat_storage_partition_owned{partition="0"} 1
                chat_storage_partition_owned{partition="1"} 0
                chat_storage_partition_waiting{partition="6"} 1
                chat_storage_partition_waiting{partition="4"} 1
                chat_storage_partition_waiting{partition="1"} 0
                chat_storage_map_epoch 3
                chat_bus_requests_in_flight 3
                """),
            report("storage-1", pid: 31, "chat_storage_partition_owned{partition=\"1\"} 1\n"),
            report("gateway", pid: 40, """
                chat_sessions_online 7
                chat_bus_requests_in_flight 12
                chat_bus_timeouts_total{worker="auth"} 1
                chat_bus_timeouts_total{worker="storage-1"} 4
                """),
        ]
        var timeouts = BusTimeoutHistory()
        timeouts.record(process: "gateway", pid: 40, total: 0, at: 30 * second)
        timeouts.record(reports[3].report, at: 100 * second)
        let status = SystemStatus(children: children, reports: reports, reportMaxAge: maxAge, timeouts: timeouts, now: 100 * second)

        #expect(status.processes.map(\.name) == ["auth", "storage-0", "storage-1", "gateway"])
        #expect(status.processes.map(\.role) == ["auth", "storage", "storage", "gateway"])
        #expect(status.processes.map(\.state) == ["running", "running", "running", "running"])
        #expect(status.processes.map(\.pid) == [10, 20, 31, 40])
        #expect(status.processes.map(\.restarts) == [0, 0, 1, 0])
        #expect(status.processes[2].uptimeSeconds == 4)
        #expect(status.processes.map(\.partitions) == [nil, [0, 2], [1], nil])
        #expect(status.processes.map(\.partitionsWaiting) == [nil, [4, 6], nil, nil], "a move under way")
        #expect(status.processes.map(\.mapEpoch) == [nil, 3, nil, nil])
        #expect(status.processes.map(\.requestsInFlight) == [0, 3, nil, 12])
        #expect(status.processes[3].busTimeoutsLastMinute == 5)
        #expect(status.processes[3].sessionsOnline == 7)
        #expect(status.sessionsOnline == 7)
    }

    @Test func aReportFromAnotherPidOrTooOldIsNotTheChildsFigures() {
        var restarted = child("storage-0", pid: 20, since: 1)
        _ = restarted.exited(at: 99)
        let children = [child("gateway", pid: 41, since: 99), child("router", pid: 50, since: 1), restarted]
        let reports = [
            // The gateway killed a moment ago, and the new one not yet heard from.
            report("gateway", pid: 40, "chat_sessions_online 7\n"),
            report("router", pid: 50, "chat_bus_requests_in_flight 5\n", age: maxAge + 1),
            report("storage-0", pid: 20, "chat_storage_partition_owned{partition=\"0\"} 1\n"),
        ]
        let status = SystemStatus(children: children, reports: reports, reportMaxAge: maxAge, timeouts: BusTimeoutHistory(), now: 100 * second)
        #expect(status.processes.map(\.state) == ["running", "running", "backing off"])
        #expect(status.processes.map(\.pid) == [41, 50, nil])
        #expect(status.processes.allSatisfy { $0.requestsInFlight == nil && $0.sessionsOnline == nil && $0.partitions == nil })
        #expect(status.sessionsOnline == 0)
    }

    @Test func aProcessReportingButNotSupervisedIsListedAfterTheChildren() {
        let children = [child("gateway", pid: 40, since: 1)]
        let reports = [
            report("gateway-900", pid: 900, "chat_sessions_online 3\n"),
            // A child retired a moment ago (a storage worker removed): its last report is fresh
            // still, but it is no process of this system any more.
            report("storage-3", pid: 700, "chat_storage_partition_owned{partition=\"1\"} 0\n"),
            report("gateway", pid: 40, "chat_sessions_online 2\n"),
        ]
        let status = SystemStatus(children: children, reports: reports, reportMaxAge: maxAge, timeouts: BusTimeoutHistory(), now: 100 * second)
        #expect(status.processes.map(\.name) == ["gateway", "gateway-900"])
        #expect(status.processes[1].state == "unsupervised")
        #expect(status.processes[1].pid == 900)
        #expect(status.processes[1].restarts == nil)
        #expect(status.sessionsOnline == 5)
    }

    /// Many large values, each within bounds, must not add up past `Int`'s range either.
    @Test func hostileSumsAreClampedNotACrash() {
        let many = String(repeating: "chat_sessions_online 1e15\n", count: 10_000)
        let reports = (0..<20).map { report("gateway-\(900 + $0)", pid: 900 + Int32($0), many) }
        let status = SystemStatus(children: [], reports: reports, reportMaxAge: maxAge, timeouts: BusTimeoutHistory(), now: 100 * second)
        #expect(status.processes.count == 20)
        #expect(status.sessionsOnline == 1_000_000_000_000_000)
    }

    @Test func aRoleRunOnItsOwnIsShownWithItsRole() {
        let reports = [report("storage-1-4242", pid: 4242, ""), report("gateway-77", pid: 77, "")]
        let status = SystemStatus(children: [], reports: reports, reportMaxAge: maxAge, timeouts: BusTimeoutHistory(), now: 100 * second)
        #expect(status.processes.map(\.role) == ["gateway", "storage"])
    }

    @Test func hostileFiguresAreClampedNotACrash() {
        let children = [child("gateway", pid: 40, since: 1)]
        let reports = [report("gateway", pid: 40, "chat_sessions_online 1e300\nchat_bus_requests_in_flight NaN\n")]
        let status = SystemStatus(children: children, reports: reports, reportMaxAge: maxAge, timeouts: BusTimeoutHistory(), now: 100 * second)
        #expect(status.processes[0].sessionsOnline == 1_000_000_000_000_000)
        #expect(status.processes[0].requestsInFlight == nil)
    }

    @Test func jsonHasEveryKeyUnknownFiguresAsNull() throws {
        let status = SystemStatus(processes: [
            .init(name: "storage-0", role: "storage", pid: nil, state: "backing off", uptimeSeconds: nil, restarts: 2,
                  requestsInFlight: nil, busTimeoutsLastMinute: nil, sessionsOnline: nil, partitions: nil),
        ], sessionsOnline: 0)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(status), as: UTF8.self)
        #expect(json == """
            {"processes":[{"bus_timeouts_last_minute":null,"map_epoch":null,"name":"storage-0","partitions":null,"partitions_waiting":null,\
            "pid":null,"requests_in_flight":null,"restarts":2,"role":"storage","sessions_online":null,"state":"backing off",\
            "uptime_seconds":null}],"sessions_online":0}
            """)
        #expect(try JSONDecoder().decode(SystemStatus.self, from: Data(json.utf8)) == status)
    }
}
