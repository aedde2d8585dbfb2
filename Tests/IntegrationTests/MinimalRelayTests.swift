import ChatRuntime
import ChatTestSupport
import Foundation
import Testing

/// The benchmark's ceiling, `chat-bench relay-server`, started as `chat-bench compare` starts
/// it: it must forward what it is sent, whole and in order, or the ceiling it reports is wrong.
@Suite struct MinimalRelayTests {
    @Test func messagesReachTheirTargetWholeAndInOrder() throws {
        let port = try LocalPorts.free(1)[0]
        let relay = Process()
        relay.executableURL = ChatSystem.binaries.appendingPathComponent("chat-bench")
        relay.arguments = ["relay-server", "--port", String(port)]
        try relay.run()
        // SIGKILL: it keeps nothing, and it inherits the test runner's blocked SIGTERM.
        defer { #expect(relay.stop(with: SIGKILL, within: .seconds(10)), "the relay did not exit on SIGKILL") }

        let alice = try Self.connect(port: port), bob = try Self.connect(port: port)
        try alice.send("NICK alice\r\nUSER alice 0 * :bench\r\n")
        try bob.send("NICK bob\r\nUSER bob 0 * :bench\r\n")
        #expect(try alice.readLine().hasPrefix(":relay 001 alice"))
        #expect(try bob.readLine().hasPrefix(":relay 001 bob"))

        // Several messages in one write, one to nobody, as the load generator batches them.
        try alice.send("PRIVMSG bob :one\r\nPRIVMSG nobody :lost\r\nPRIVMSG bob :t=42;xx\r\n")
        #expect(try bob.readLine() == ":alice PRIVMSG bob :one\r")
        #expect(try bob.readLine() == ":alice PRIVMSG bob :t=42;xx\r")
        // Bounded on purpose: nothing more may arrive (the message to nobody goes nowhere).
        #expect(bob.staysQuiet(for: 0.2))
        #expect(alice.staysQuiet(for: 0.1))
    }

    /// The relay binds shortly after it starts.
    private static func connect(port: Int) throws -> TestClient {
        var client: TestClient?
        try waitUntil("the relay to listen on port \(port)", timeout: .seconds(10)) {
            client = try? TestClient(port: port)
            return client != nil
        }
        return client!
    }
}
