import ChatCrypto
import ChatRuntime
import ChatTestSupport
import Foundation
import Testing

/// The `chat` client when its connection is lost: it reconnects and signs in again, refuses
/// (with a note) what is typed meanwhile, sends nothing twice, and its exit status says what
/// happened.
@Suite(.serialized) struct ChatReconnectTests {
    @Test func theClientReconnectsAfterTheGatewayIsKilledAndRefusesLinesTypedMeanwhile() throws {
        let system = try ChatSystem()
        defer { system.stop(); system.removeData() }
        let bob = try system.registeredUser(), alice = TestUIDs.make()
        let chat = try ScriptedChat(["--port", String(system.port)], script: "/signup \(alice) pw\n/signin \(alice) pw\n", moreToCome: true)
        try chat.waitForOutput(containing: ["signin successfully"])

        // The supervisor held still, so that no gateway comes back until the test says.
        let supervisor = system.supervisor.processIdentifier
        kill(supervisor, SIGSTOP)
        var resumed = false
        defer { if !resumed { kill(supervisor, SIGCONT) } }
        kill(try #require(system.childPID("gateway")), SIGKILL)
        try chat.waitForOutput(containing: ["disconnected from the server; reconnecting"])
        try chat.send("/to \(bob) typed while offline\n")
        try chat.waitForOutput(containing: ["error: not connected to the server (reconnecting); not sent"])
        kill(supervisor, SIGCONT)
        resumed = true
        try chat.waitForOutput(containing: ["reconnected; signed in again as \(alice)"], timeout: .seconds(60))

        let reader = try TestClient(port: system.port)
        #expect(try reader.ask("signin \(bob) pw") == "signin successfully")
        try chat.send("/to \(bob) after the reconnect\n/quit\n")
        let output = try chat.finish()
        let header = try reader.readLine()
        #expect(header.hasPrefix("\(alice) to \(bob) ") && header.hasSuffix(" text"), "\(header)")
        // The line typed offline was never sent, now or later: the first text bob gets is this one.
        #expect(try reader.readLine() == "after the reconnect")
        #expect(output.components(separatedBy: "disconnected").count == 2, "said once, not again at /quit:\n\(output)")
        #expect(chat.process.terminationStatus == 1, "a command failed (the offline line): \(output)")
    }

    /// The client keeps a resumption ticket and signs in again with it after a lost
    /// connection (auth counts a resume, not a password hash); a ticket refused (here: expired)
    /// falls back to the password hash, on the same connection.
    @Test func theClientResumesWithItsTicketAndFallsBackToThePassword() throws {
        let port = try LocalPorts.free(1)[0]
        let system = try ChatSystem(settings: ["metrics.listen=\"127.0.0.1:\(port)\"", "telemetry.interval_ms=200",
                                               "auth.resume_ticket_seconds=4"])
        defer { system.stop(); system.removeData() }
        func counter(_ name: String, label: String? = nil) -> Double { MetricsPage.sum(port: port, name, label: label) }
        let alice = TestUIDs.make()
        let chat = try ScriptedChat(["--port", String(system.port)], script: "/signup \(alice) pw\n/signin \(alice) pw\n", moreToCome: true)
        try chat.waitForOutput(containing: ["signin successfully"])
        try waitUntil("the client's ticket issued", timeout: .seconds(10)) { counter("chat_resume_tickets_issued_total") >= 1 }
        _ = try system.killAndAwaitRestart("gateway")
        try chat.waitForOutput(containing: ["reconnected; signed in again as \(alice)"], timeout: .seconds(60))
        try waitUntil("a resume counted", timeout: .seconds(10)) { counter("chat_resumes_total", label: "result=\"ok\"") == 1 }
        // It asked for the next ticket; that one now runs out, and the next reconnect falls
        // back to the password.
        try waitUntil("the next ticket issued", timeout: .seconds(10)) { counter("chat_resume_tickets_issued_total") >= 2 }
        Thread.sleep(forTimeInterval: 4.5)
        _ = try system.killAndAwaitRestart("gateway")
        try waitUntil("signed in again with the password", timeout: .seconds(60)) {
            chat.printed.components(separatedBy: "reconnected; signed in again as \(alice)").count == 3
        }
        #expect(counter("chat_resumes_total", label: "result=\"ok\"") == 1, "the expired ticket was refused")
        try chat.send("/quit\n")
        let output = try chat.finish()
        #expect(!output.contains("refused"), "\(output)")
    }

    /// Signed in elsewhere, the client does not come back (it would end the other session in
    /// turn) and exits with status 2; without reconnects it exits 2 at a lost connection.
    @Test func theClientStaysOutWhenSignedInElsewhere() throws {
        let system = ChatSystem.shared
        let uid = TestUIDs.make()
        let chat = try ScriptedChat(["--port", String(system.port)], script: "/signup \(uid) pw\n/signin \(uid) pw\n", moreToCome: true)
        try chat.waitForOutput(containing: ["signin successfully"])
        // What `chat` sends for the password: the SHA-256 of `uid:password`.
        let other = try TestClient(port: system.port)
        #expect(try other.ask("signin \(uid) \(SHA256Digest.hexHash("\(uid):pw"))") == "signin successfully")
        try chat.waitForOutput(containing: ["signed in elsewhere; this session is closed"])
        let output = try chat.finish()
        #expect(!output.contains("reconnecting"), "\(output)")
        #expect(chat.process.terminationStatus == 2)
    }

    /// Everything succeeded: status 0; a refused command: status 1.
    @Test func scriptExitStatusSaysWhetherACommandFailed() throws {
        let system = ChatSystem.shared
        let uid = TestUIDs.make()
        let fine = try ScriptedChat(["--port", String(system.port)], script: "/signup \(uid) pw\n/signin \(uid) pw\n/friends\n/quit\n")
        _ = try fine.finish()
        #expect(fine.process.terminationStatus == 0)
        let refused = try ScriptedChat(["--port", String(system.port)], script: "/signin \(uid) wrong\n/quit\n")
        #expect(try refused.finish().contains("Wrong Password"))
        #expect(refused.process.terminationStatus == 1)
    }
}
