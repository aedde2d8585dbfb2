import ChatMonitoring
import ChatSupervisor
import ChatTelemetry
import Foundation
import Logging
import Testing

@Suite struct MonitoredSystemTests {
    @Test func readsTheChildStatesItIsGiven() throws {
        let endpoint = "ipc://\(FileManager.default.temporaryDirectory.path)/monitored-\(UUID().uuidString.prefix(8)).sock"
        let collector = try TelemetryCollector(endpoint: endpoint, logger: Logger(label: "test"))
        let policy = RestartPolicy(maxRestarts: 1, windowSeconds: 60, maxBackoffSeconds: 1)
        let system = MonitoredSystem(childStates: { [ChildState(name: "auth", policy: policy)] }, telemetry: collector, reportMaxAge: 3_000_000_000)
        #expect(system.childStates().map(\.name) == ["auth"])
        #expect(system.telemetry.reports(maxAge: system.reportMaxAge).isEmpty)
    }
}
