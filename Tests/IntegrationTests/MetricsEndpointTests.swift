import ChatRuntime
import ChatTestSupport
import Foundation
import Testing

/// The supervisor's metrics endpoint over real HTTP, on a real system whose processes report
/// every 200 ms: the figures a text moves, the restarts a kill adds, and a health check that
/// sees a hung worker and one backing off.
@Suite struct MetricsEndpointTests {
    /// A system serving metrics on a port of its own.
    private func systemWithMetrics(_ settings: [String] = []) throws -> (ChatSystem, port: Int) {
        let port = try LocalPorts.free(1)[0]
        let system = try ChatSystem(settings: ["metrics.listen=\"127.0.0.1:\(port)\"", "telemetry.interval_ms=200"] + settings)
        return (system, port)
    }

    /// The sum of every sample of the series `name` on the page, from all processes, keeping
    /// only those with `label` (`child="auth"`) when one is given; nil when there is none.
    private func total(_ name: String, on page: String, with label: String? = nil) -> Double? {
        let values = page.split(separator: "\n").compactMap { line -> Double? in
            guard line.hasPrefix(name + "{") || line.hasPrefix(name + " ") else { return nil }
            if let label, !line.contains(label) { return nil }
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        return values.isEmpty ? nil : values.reduce(0, +)
    }

    private func metricsPage(_ port: Int) throws -> String {
        let reply = try LoopbackHTTP.get(port: port, "/metrics")
        guard reply.status == 200 else { throw ChatSystem.Failure(description: "/metrics answered \(reply.status): \(reply.body)") }
        return reply.body
    }

    @Test func aTextIsStoredAndDeliveredOnce() throws {
        let (system, port) = try systemWithMetrics()
        defer { system.stop(); system.removeData() }
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()

        // The figures before the text: both storage workers and the router have reported, and
        // the gateway counts the two sessions (the readiness probe's has gone).
        var page = ""
        try waitUntil("the first reports; page:\n\(page)", timeout: .seconds(20), interval: .milliseconds(100)) {
            page = try metricsPage(port)
            return ["storage-0", "storage-1"].allSatisfy { page.contains("chat_texts_stored_total{process=\"\($0)\"}") }
                && page.contains("chat_texts_delivered_total{process=\"router\"}")
                && total("chat_sessions_online", on: page) == 2
        }
        let stored = try #require(total("chat_texts_stored_total", on: page))
        let delivered = try #require(total("chat_texts_delivered_total", on: page))

        #expect(try alice.ask("\(a) to \(b) 202004131702 text\nhello, metrics") == "ok")
        #expect(try bob.readLine() == "\(a) to \(b) 202004131702 text")
        #expect(try bob.readLine() == "hello, metrics")

        try waitUntil("the text in the figures; page:\n\(page)", timeout: .seconds(10), interval: .milliseconds(100)) {
            page = try metricsPage(port)
            return total("chat_texts_stored_total", on: page) == stored + 1 && total("chat_texts_delivered_total", on: page) == delivered + 1
        }
        // Three more reports from every process: still one text, counted once.
        Thread.sleep(forTimeInterval: 0.6)
        page = try metricsPage(port)
        #expect(total("chat_texts_stored_total", on: page) == stored + 1)
        #expect(total("chat_texts_delivered_total", on: page) == delivered + 1)
        #expect(total("chat_texts_offline_total", on: page) == 0)
        #expect(try #require(total("chat_group_commit_records_count", on: page)) >= 1)
        #expect(try #require(total("chat_commit_seconds_count", on: page)) >= 1)
        #expect(try #require(total("chat_sign_ins_total", on: page, with: "result=\"ok\"")) >= 2)
        #expect(try #require(total("chat_connections_accepted_total", on: page)) >= 2)
        #expect(try #require(total("chat_connections_open", on: page)) >= 2)
        // Every partition is owned once, by one of the two workers.
        #expect(total("chat_storage_partition_owned", on: page) == Double(ChatConfiguration().storagePartitions))
        for child in ["auth", "storage-0", "storage-1", "router", "gateway"] {
            #expect(total("chat_child_up", on: page, with: "child=\"\(child)\"") == 1, "\(child)")
        }
        #expect(try LoopbackHTTP.get(port: port, "/metrics").headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")

        // A file is counted as a file, made durable by one fsync of its own, and not as a text.
        #expect(try alice.upload(from: a, to: b, name: "figures.bin", bytes: [1, 2, 3]) == "ok")
        try waitUntil("the file in the figures; page:\n\(page)", timeout: .seconds(10), interval: .milliseconds(100)) {
            page = try metricsPage(port)
            return total("chat_files_stored_total", on: page) == 1 && total("chat_fsync_seconds_count", on: page) == 1
        }
        #expect(total("chat_texts_stored_total", on: page) == stored + 1)
        #expect(total("chat_texts_delivered_total", on: page) == delivered + 1)
    }

    @Test func healthzSeesAHungWorkerAndItsReturn() throws {
        let (system, port) = try systemWithMetrics()
        defer { system.stop(); system.removeData() }
        var health: LoopbackHTTP.Reply?
        try waitUntil("healthz ok; last: \(String(describing: health))", timeout: .seconds(20), interval: .milliseconds(100)) {
            health = try LoopbackHTTP.get(port: port, "/healthz")
            return health?.status == 200
        }
        #expect(health?.body == "ok\n")

        let worker = try #require(system.childPID("storage", index: 1))
        kill(worker, SIGSTOP)
        // Whatever fails below, the worker runs again, or the system would not stop.
        defer { kill(worker, SIGCONT) }
        try waitUntil("healthz to see storage-1 hung; last: \(String(describing: health))", timeout: .seconds(10), interval: .milliseconds(100)) {
            health = try LoopbackHTTP.get(port: port, "/healthz")
            return health?.status == 503
        }
        let lines = health?.body.split(separator: "\n") ?? []
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("storage-1 silent for ") == true)

        kill(worker, SIGCONT)
        try waitUntil("healthz ok again; last: \(String(describing: health))", timeout: .seconds(10), interval: .milliseconds(100)) {
            health = try LoopbackHTTP.get(port: port, "/healthz")
            return health?.status == 200
        }
        #expect(system.childPID("storage", index: 1) == worker)
    }

    @Test func aKilledChildBacksOffUnhealthyAndItsRestartIsCounted() throws {
        // Past max_restarts at the first kill: restarted only after the capped backoff, 4 s.
        let (system, port) = try systemWithMetrics(["supervisor.max_restarts=0", "supervisor.max_backoff_seconds=4"])
        defer { system.stop(); system.removeData() }
        try waitUntil("healthz ok", timeout: .seconds(20), interval: .milliseconds(100)) {
            try LoopbackHTTP.get(port: port, "/healthz").status == 200
        }
        #expect(total("chat_child_restarts_total", on: try metricsPage(port), with: "child=\"router\"") == 0)

        let router = try #require(system.childPID("router"))
        kill(router, SIGKILL)
        var health: LoopbackHTTP.Reply?
        try waitUntil("healthz to see the router backing off; last: \(String(describing: health))", timeout: .seconds(3), interval: .milliseconds(50)) {
            health = try LoopbackHTTP.get(port: port, "/healthz")
            return health?.status == 503
        }
        #expect(health?.body == "router backing off\n")
        let page = try metricsPage(port)
        #expect(total("chat_child_up", on: page, with: "child=\"router\"") == 0)
        #expect(total("chat_child_restarts_total", on: page, with: "child=\"router\"") == 1)

        try waitUntil("healthz ok after the restart; last: \(String(describing: health))", timeout: .seconds(20), interval: .milliseconds(100)) {
            health = try LoopbackHTTP.get(port: port, "/healthz")
            return health?.status == 200
        }
        let after = try metricsPage(port)
        #expect(total("chat_child_up", on: after, with: "child=\"router\"") == 1)
        #expect(total("chat_child_restarts_total", on: after, with: "child=\"router\"") == 1)
        #expect(total("chat_child_restarts_total", on: after) == 1)
    }

    @Test func aTakenPortLeavesTheChatServiceRunningWithoutMetrics() throws {
        let port = try LocalPorts.free(1)[0]
        let taken = try LoopbackListener(port: port)
        // ChatSystem waits until users can sign up, sign in and read their history.
        let system = try ChatSystem(settings: ["metrics.listen=\"127.0.0.1:\(port)\""])
        defer { system.stop(); system.removeData() }
        #expect(system.log.contains("metrics endpoint not started; the chat service runs without it"))
        let (alice, a) = try system.signedInUser()
        let b = try system.registeredUser()
        #expect(try alice.ask("\(a) history \(b) all") == "you two have no history yet")
        withExtendedLifetime(taken) {}
    }
}
