import ChatTestSupport
import Foundation
import Testing

/// A process that cannot start says so with the time and its role, as every other log line
/// does, not as a bare `Error:` among the lines of its siblings.
@Suite struct StartUpErrorTests {
    @Test func aWorkerThatCannotBindLogsWhenAndWhichRoleAndExits() throws {
        // A port someone else listens on.
        let taken = try LoopbackListener()
        defer { withExtendedLifetime(taken) {} }
        let port = taken.port

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chat-startup-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let process = Process()
        process.executableURL = ChatSystem.binaries.appendingPathComponent("chatd")
        process.arguments = ["storage", "--index", "0", "--data-dir", folder.path, "--set", "bus.curve=false",
                             "--set", "storage.endpoints=[\"tcp://127.0.0.1:\(port)\"]"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = errors
        try process.run()
        try waitUntil("the worker to exit", timeout: .seconds(30), interval: .milliseconds(100)) { !process.isRunning }
        let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 1, "output:\n\(output)")
        let line = try #require(output.split(separator: "\n").first { $0.contains("stopped by an error") }, "output:\n\(output)")
        #expect(line.contains("critical chatd.storage-0:"), "\(line)")
        #expect(line.contains("zmq_bind"), "\(line)")
        // An ISO 8601 time first, as on every line.
        #expect(line.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"#, options: .regularExpression) != nil, "\(line)")
        #expect(!output.contains("\nError:") && !output.hasPrefix("Error:"), "output:\n\(output)")
    }
}
