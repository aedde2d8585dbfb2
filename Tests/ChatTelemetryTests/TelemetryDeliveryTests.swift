import ChatTelemetry
import ChatTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// A reporter and a collector over a real ZeroMQ socket, as a child and the supervisor use them.
@Suite struct TelemetryDeliveryTests {
    @Test func theCollectorHoldsTheLatestReportOfEachProcess() throws {
        let endpoint = "ipc://\(FileManager.default.temporaryDirectory.path)/telemetry-\(UUID().uuidString.prefix(8)).sock"
        let logger = Logger(label: "test")
        let collector = try TelemetryCollector(endpoint: endpoint, logger: logger)
        let count = Counting()
        let reporter = TelemetryReporter(endpoint: endpoint, process: "router", interval: .milliseconds(20), logger: logger) {
            "chat_reports \(count.next())\n"
        }
        try reporter.start()
        defer { reporter.stop() }
        try waitUntil("two reports from the router", timeout: .seconds(10)) {
            guard let received = collector.reports(maxAge: 5_000_000_000)["router"] else { return false }
            #expect(received.report.pid == getpid())
            return MetricsExposition.samples(received.report.metrics).first.map { $0.value >= 1 } ?? false
        }
    }
}

private final class Counting: Sendable {
    private let value = Mutex(0)
    func next() -> Int { value.withLock { $0 += 1; return $0 - 1 } }
}

extension TelemetryDeliveryTests {
    /// A process whose work is stuck sends nothing, though its reporting thread runs on: the
    /// supervisor's health check must see it silent. It reports again once the work moves.
    @Test func aStuckProcessGoesQuietUntilItMovesAgain() throws {
        let endpoint = "ipc://\(FileManager.default.temporaryDirectory.path)/telemetry-\(UUID().uuidString.prefix(8)).sock"
        let logger = Logger(label: "test")
        let collector = try TelemetryCollector(endpoint: endpoint, logger: logger)
        let stuck = Atomic<Bool>(true)
        let reporter = TelemetryReporter(endpoint: endpoint, process: "auth", interval: .milliseconds(20), logger: logger,
                                         isStuck: { stuck.load(ordering: .relaxed) }) { "chat_up 1\n" }
        try reporter.start()
        defer { reporter.stop() }
        // One reading is not enough (a process just resumed is read before it moves): the
        // first report goes, then none while it stays stuck.
        Thread.sleep(forTimeInterval: 0.2)
        let last = collector.reports(maxAge: .max)["auth"]?.receivedAt
        Thread.sleep(forTimeInterval: 0.3)
        #expect(collector.reports(maxAge: .max)["auth"]?.receivedAt == last, "a stuck process reported")
        stuck.store(false, ordering: .relaxed)
        try waitUntil("a report once unstuck", timeout: .seconds(10)) {
            (collector.reports(maxAge: .max)["auth"]?.receivedAt ?? 0) > (last ?? 0)
        }
    }
}
