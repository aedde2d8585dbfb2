@testable import ChatMonitoring
import ChatSupervisor
import ChatTelemetry
import Foundation
import Logging
import Testing

/// The admin socket over a real Unix domain socket, with a system of one stopped child.
@Suite struct AdminServerTests {
    private func makeServer(in folder: String, idleTimeout: Duration = .seconds(5)) throws -> AdminServer {
        let collector = try TelemetryCollector(endpoint: "ipc://\(folder)/telemetry-\(UUID().uuidString.prefix(8)).sock", logger: Logger(label: "test"))
        let policy = RestartPolicy(maxRestarts: 1, windowSeconds: 60, maxBackoffSeconds: 1)
        let system = MonitoredSystem(childStates: { [ChildState(name: "auth", policy: policy)] }, telemetry: collector, reportMaxAge: 3_000_000_000)
        return try AdminServer(path: AdminServer.path(dataDirectory: folder), system: system, onReload: { "reloaded: nothing changed" },
                               idleTimeout: idleTimeout,
                               logger: Logger(label: "test"))
    }

    private func makeFolder() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("admin-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    /// Everything the server writes after `bytes` (sent as they are, no newline added).
    private func exchange(_ bytes: [UInt8], at path: String) throws -> String {
        let descriptor = try AdminClient.connect(to: path)
        defer { close(descriptor) }
        if !bytes.isEmpty { _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) } }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(descriptor, &chunk, chunk.count)
            if count <= 0 { break }
            answer += chunk[..<count]
        }
        return String(decoding: answer, as: UTF8.self)
    }

    @Test func answersStatusAndReloadThenRemovesItsSocketOnStop() throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let server = try makeServer(in: folder)
        var info = stat()
        #expect(lstat(server.path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        let status = try JSONDecoder().decode(SystemStatus.self, from: Data(try AdminClient.ask("status", at: server.path).utf8))
        #expect(status.processes.map(\.name) == ["auth"])
        #expect(status.processes.map(\.state) == ["stopped"])
        #expect(try AdminClient.ask("reload", at: server.path) == "reloaded: nothing changed\n")
        server.stop()
        #expect(!FileManager.default.fileExists(atPath: server.path))
        #expect(throws: AdminClient.Failure.self) { try AdminClient.ask("status", at: server.path) }
    }

    @Test func badInputGetsAnErrorLineAndTheServerGoesOn() throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let server = try makeServer(in: folder, idleTimeout: .milliseconds(300))
        defer { server.stop() }
        #expect(try exchange(Array("shutdown\n".utf8), at: server.path) == "error: unknown request 'shutdown' (expected status or reload)\n")
        #expect(try exchange([UInt8](repeating: 0, count: 100_000), at: server.path) == "error: request longer than 256 bytes\n")
        let started = ContinuousClock.now
        #expect(try exchange(Array("stat".utf8), at: server.path) == "error: no request within 0.3 s\n")
        #expect(ContinuousClock.now - started < .seconds(3))
        #expect(try AdminClient.ask("status", at: server.path).hasPrefix("{"))
    }

    @Test func aStaleSocketIsReplacedALiveOneRefused() throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // A socket file nobody listens on, as a supervisor killed outright leaves it.
        let path = AdminServer.path(dataDirectory: folder)
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(stale, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        close(stale)
        #expect(throws: AdminClient.Failure.self) { try AdminClient.ask("status", at: path) }

        let server = try makeServer(in: folder)
        defer { server.stop() }
        #expect(try AdminClient.ask("status", at: path).hasPrefix("{"))
        #expect(throws: AdminServer.StartError.self) { try makeServer(in: folder) }
        #expect(try AdminClient.ask("status", at: path).hasPrefix("{"))
    }
}
