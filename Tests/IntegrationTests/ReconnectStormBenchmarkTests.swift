import ChatTestSupport
import Foundation
import Testing

/// `chat-bench storm`, run as an operator runs it: a started system, its gateway killed under
/// signed-in clients, every one of them back through `resume`.
@Suite struct ReconnectStormBenchmarkTests {
    @Test func everyClientOfAKilledGatewayResumesWithoutItsPassword() throws {
        let bench = Process()
        bench.executableURL = ChatSystem.binaries.appendingPathComponent("chat-bench")
        bench.arguments = ["storm", "--clients", "200"]
        let output = Pipe()
        bench.standardOutput = output
        bench.standardError = output
        try bench.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        bench.waitUntilExit()
        #expect(bench.terminationStatus == 0, "output:\n\(text)")
        let back = try #require(text.split(separator: "\n").first { $0.hasPrefix("back:") }, "output:\n\(text)")
        #expect(back.contains("every client signed in again"), "\(back)")
        // Each client came back on its ticket: none needed the password.
        #expect(!back.contains("with their password"), "\(back)")
        #expect(text.contains("supervisor.child=gateway supervisor.reason=signal 9"), "the gateway was not killed:\n\(text)")
    }
}
