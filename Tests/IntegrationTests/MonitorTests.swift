import ChatRuntime
import ChatTestSupport
import Foundation
import Testing

/// Roles run on their own, as on several machines ("Spreading processes over machines"), with
/// `chatd monitor` watching them: every role reports to it, status lists them, the metrics
/// endpoint serves their figures, and its health check sees one hang.
@Suite struct MonitorTests {
    @Test func aMonitorShowsRolesRunOnTheirOwnAndSeesOneHang() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chat-monitor-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let ports = try LocalPorts.free(6)
        let (clientPort, telemetryPort, metricsPort) = (ports[0], ports[1], ports[2])
        let shared = ["--data-dir", folder.path] + LocalPorts.internalEndpointSettings(Array(ports[3...]))
            + ["--set", "auth.scrypt_n=16", "--set", "telemetry.interval_ms=200",
               "--set", "telemetry.endpoint=\"tcp://127.0.0.1:\(telemetryPort)\""]
        let log = folder.appendingPathComponent("chatd.log")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try #require(FileManager.default.createFile(atPath: log.path, contents: nil))

        // No --parent-pid: started as a process manager starts them, each on its own.
        var processes: [Process] = []
        defer { for process in processes.reversed() { _ = process.stop(with: SIGTERM) } }
        func start(_ arguments: [String]) throws -> Process {
            let process = Process()
            process.executableURL = ChatSystem.binaries.appendingPathComponent("chatd")
            process.arguments = arguments
            // Appending, so the processes sharing the log do not write over each other's lines.
            let descriptor = open(log.path, O_WRONLY | O_APPEND)
            guard descriptor >= 0 else { throw ChatSystem.Failure(description: "cannot open \(log.path): errno \(errno)") }
            let output = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
            process.standardOutput = output
            process.standardError = output
            try process.run()
            processes.append(process)
            return process
        }
        // The bus key first, as docs/operations.md has an operator make it for roles run this way.
        let keys = try StatusCommandTests.chatd(["keys"] + shared)
        #expect(keys.status == 0, "\(keys.standardError)")
        _ = try start(["monitor"] + shared + ["--set", "metrics.listen=\"127.0.0.1:\(metricsPort)\""])
        let roles = [["auth"], ["storage", "--index", "0"], ["router"], ["gateway", "--port", String(clientPort)]]
        let started = try roles.map { try start($0 + shared) }
        let names = zip(["auth", "storage-0", "router", "gateway"], started).map { "\($0)-\($1.processIdentifier)" }
        var allLog: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

        // The system works as a whole, and the monitor hears from every role under its name and pid.
        try waitUntil("a sign-up through the gateway; log:\n\(allLog)", timeout: .seconds(30), interval: .milliseconds(200)) {
            guard let client = try? TestClient(port: clientPort) else { return false }
            return (try? client.ask("signup 123321 pw", timeout: 3)) == "signup successfully"
        }
        var listed: [String: String] = [:]
        try waitUntil("every role in status: \(listed); log:\n\(allLog)", timeout: .seconds(20), interval: .milliseconds(200)) {
            let run = try StatusCommandTests.chatd(["status", "--json", "--data-dir", folder.path])
            let json = try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any]
            let rows = json?["processes"] as? [[String: Any]] ?? []
            listed = Dictionary(rows.map { ($0["name"] as? String ?? "", $0["state"] as? String ?? "") }) { first, _ in first }
            return names.allSatisfy { listed[$0] == "unsupervised" }
        }
        try waitUntil("healthy", timeout: .seconds(10), interval: .milliseconds(200)) {
            try LoopbackHTTP.get(port: metricsPort, "/healthz").status == 200
        }
        // A process's first report goes out before its work has made its figures: wait for the next.
        var page = ""
        try waitUntil("the gateway's and the storage worker's figures; page:\n\(page)", timeout: .seconds(10), interval: .milliseconds(200)) {
            page = try LoopbackHTTP.get(port: metricsPort, "/metrics").body
            return page.contains("chat_sessions_online{process=\"\(names[3])\"}")
                && page.contains("chat_storage_partition_owned{process=\"\(names[1])\"")
        }

        // A reload reaches the monitor alone, and it says so.
        let reload = try StatusCommandTests.chatd(["reload", "--data-dir", folder.path])
        #expect(reload.status == 0 && reload.standardOutput.contains("each role reloads itself"), "\(reload)")

        // A hung router stops reporting: unhealthy, named by its role, until it resumes.
        let router = started[2].processIdentifier
        kill(router, SIGSTOP)
        var resumed = false
        defer { if !resumed { kill(router, SIGCONT) } }
        var health = ""
        try waitUntil("the router's silence in /healthz: \(health)", timeout: .seconds(10), interval: .milliseconds(200)) {
            let reply = try LoopbackHTTP.get(port: metricsPort, "/healthz")
            health = reply.body
            return reply.status == 503 && health.contains("router silent for")
        }
        #expect(!health.contains("auth") && !health.contains("gateway"), "\(health)")
        kill(router, SIGCONT)
        resumed = true
        try waitUntil("healthy again", timeout: .seconds(10), interval: .milliseconds(200)) {
            try LoopbackHTTP.get(port: metricsPort, "/healthz").status == 200
        }
    }
}
