import ChatMonitoring
import ChatSupervisor
import ChatTelemetry
import ChatTestSupport
import Foundation
import Logging
import Testing

/// The endpoint over real loopback sockets: what it answers, and what it does to clients that
/// send too much, too slowly, or too many at once.
@Suite struct MetricsServerTests {
    private let system: MonitoredSystem

    init() throws {
        let endpoint = "ipc://\(FileManager.default.temporaryDirectory.path)/metrics-server-\(UUID().uuidString.prefix(8)).sock"
        let collector = try TelemetryCollector(endpoint: endpoint, logger: Logger(label: "test"))
        let policy = RestartPolicy(maxRestarts: 1, windowSeconds: 60, maxBackoffSeconds: 1)
        var router = ChildState(name: "router", policy: policy)
        router.started(pid: 42, at: 0)
        let states = [ChildState(name: "auth", policy: policy), router]
        system = MonitoredSystem(childStates: { states }, telemetry: collector, reportMaxAge: 3_000_000_000)
    }

    /// A server on a free port, with small limits; `connectionTimeout` short for the test of
    /// it only, so that a busy machine cannot make the others see idle clients closed.
    private func serve(connectionTimeout: Duration = .seconds(30)) throws -> (MetricsServer, Int) {
        var limits = MetricsServer.Limits()
        limits.maxConnections = 4
        limits.maxRequestBytes = 1024
        limits.connectionTimeout = connectionTimeout
        // The router started at 0 and never reported: at 100 it is long past its grace.
        let server = MetricsServer(system: system, health: HealthCheck(silenceLimitSeconds: 3, startupGraceSeconds: 8),
                                   now: { 100 }, limits: limits, logger: Logger(label: "test"))
        return (server, try server.start(at: ListenAddress(host: "127.0.0.1", port: 0)))
    }

    @Test func servesTheSupervisorsFiguresAndItsHealth() throws {
        let (server, port) = try serve()
        defer { server.stop() }
        let metrics = try LoopbackHTTP.get(port: port, "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
        #expect(metrics.body.contains("chat_child_up{process=\"supervisor\",child=\"router\"} 1\n"))
        #expect(metrics.body.contains("chat_child_restarts_total{process=\"supervisor\",child=\"auth\"} 0\n"))

        let health = try LoopbackHTTP.get(port: port, "/healthz")
        #expect(health.status == 503)
        #expect(health.body == "auth stopped\nrouter silent for 100.0 s, since it started\n")

        #expect(try LoopbackHTTP.get(port: port, "/").status == 404)
        let posted = try LoopbackHTTP.request(port: port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
        #expect(posted.status == 405)
        #expect(posted.headers["allow"] == "GET")
        #expect(try LoopbackHTTP.request(port: port, "NONSENSE\r\n\r\n").status == 400)
    }

    @Test func closesARequestLargerThanTheLimitUnanswered() throws {
        let (server, port) = try serve()
        defer { server.stop() }
        let connection = try LoopbackHTTP.connect(port: port)
        defer { close(connection) }
        let huge = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Padding: \(String(repeating: "a", count: 4096))\r\n\r\n"
        try LoopbackHTTP.send(Array(huge.utf8), on: connection)
        #expect(try LoopbackHTTP.readToEnd(connection).isEmpty)
        #expect(try LoopbackHTTP.get(port: port, "/metrics").status == 200)
    }

    @Test func closesAClientThatNeverFinishesItsRequest() throws {
        let (server, port) = try serve(connectionTimeout: .milliseconds(300))
        defer { server.stop() }
        let connection = try LoopbackHTTP.connect(port: port, timeout: 5)
        defer { close(connection) }
        try LoopbackHTTP.send(Array("GET /metrics HTTP/1.1\r\n".utf8), on: connection)
        let started = ContinuousClock.now
        #expect(try LoopbackHTTP.readToEnd(connection).isEmpty)
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    @Test func refusesConnectionsPastTheCapAndServesOnceTheyGo() throws {
        let (server, port) = try serve()
        defer { server.stop() }
        // Four idle connections hold every place.
        var idle = try (0..<4).map { _ in try LoopbackHTTP.connect(port: port, timeout: 5) }
        defer { idle.forEach { close($0) } }
        try waitUntil("the fifth connection to be closed unanswered", timeout: .seconds(5)) {
            let connection = try LoopbackHTTP.connect(port: port, timeout: 5)
            defer { close(connection) }
            try LoopbackHTTP.send(Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8), on: connection)
            return try LoopbackHTTP.readToEnd(connection).isEmpty
        }
        idle.forEach { close($0) }
        idle = []
        try waitUntil("a place free again", timeout: .seconds(5)) {
            (try? LoopbackHTTP.get(port: port, "/healthz", timeout: 2).status) == 503
        }
    }
}
