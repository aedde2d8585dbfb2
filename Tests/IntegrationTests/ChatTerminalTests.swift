import ChatTestSupport
import Foundation
import Testing

/// `chat` on a terminal: line editing with arrow keys, history (across runs, never a
/// password) and Ctrl-R, and a push arriving while a line is half typed.
@Suite struct ChatTerminalTests {
    let system = ChatSystem.shared

    /// The text of the next message pushed to `client`; the failure shows `terminal`'s screen.
    private func nextText(_ client: TestClient, typedOn terminal: ChatTerminal) throws -> String {
        let header: String
        do {
            header = try client.readLine()
        } catch {
            throw ChatTerminal.Failure(description: "\(error); the terminal shows:\n\(terminal.screen.debugDescription)")
        }
        guard header.hasSuffix(" text") else { throw ChatTerminal.Failure(description: "not a text: \(header)") }
        return try client.readLine()
    }

    @Test func linesAreEditedRecalledAndNotGarbledByPushes() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("terminal-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let history = folder.appendingPathComponent("history").path
        let (bob, b) = try system.signedInUser()
        let a = TestUIDs.make()
        let arguments = ["--port", String(system.port), "--history-file", history]

        let terminal = try ChatTerminal(arguments)
        try terminal.waitFor("/help lists the commands")
        terminal.type("/signup \(a) pw\r")
        try terminal.waitFor("signup successfully")
        terminal.type("/signin \(a) pw\r")
        try terminal.waitFor("signin successfully")
        terminal.type("/to \(b) hello there\r")
        #expect(try nextText(bob, typedOn: terminal) == "hello there")

        // Up recalls the line; five backspaces and a new word edit it.
        terminal.type("\u{1B}[A" + String(repeating: "\u{7F}", count: 5) + "world\r")
        #expect(try nextText(bob, typedOn: terminal) == "hello world")

        // A push while a line is half typed: printed above it, and the line drawn again.
        terminal.type("half")
        try terminal.waitFor("> half")
        let beforePush = terminal.mark
        try bob.send("\(b) to \(a) 202612070530 text\npushed mid-line\n")
        #expect(try bob.readLine() == "ok")
        try terminal.waitFor("] \(b): pushed mid-line\r\n> half", after: beforePush)
        terminal.type(" typed\r")
        #expect(try nextText(bob, typedOn: terminal) == "half typed", "the line typed around the push went whole")

        // Ctrl-R finds an earlier line by what it contains; Enter ends the search (libedit),
        // a second sends the line found.
        terminal.type("\u{12}there\r\r")
        #expect(try nextText(bob, typedOn: terminal) == "hello there")
        terminal.type("/quit\r")
        #expect(terminal.process.exits(within: .seconds(30)))
        #expect(terminal.process.terminationStatus == 0)

        let kept = try String(contentsOfFile: history, encoding: .utf8)
        #expect(kept.contains("hello\\040world"), "\(kept)")
        #expect(!kept.contains("/signin") && !kept.contains("/signup") && !kept.contains(" pw"), "no password kept:\n\(kept)")
        let mode = try FileManager.default.attributesOfItem(atPath: history)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        // The next run has the history: up twice (past /quit) is the last text sent.
        let again = try ChatTerminal(arguments)
        try again.waitFor("/help lists the commands")
        again.type("/signin \(a) pw\r")
        try again.waitFor("signin successfully")
        again.type("\u{1B}[A\u{1B}[A\r")
        #expect(try nextText(bob, typedOn: again) == "hello there")
        again.type("/quit\r")
        #expect(again.process.exits(within: .seconds(30)))
    }

    /// The gateway killed under a user typing: the terminal says so, a line entered while
    /// reconnecting is refused with a note (not sent later), and once back the client is
    /// signed in again and the next line goes.
    @Test func aReconnectIsToldAndTheLineTypedMeanwhileRefused() throws {
        let system = try ChatSystem()
        defer { system.stop(); system.removeData() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("terminal-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let bob = try system.registeredUser(), alice = TestUIDs.make()
        let terminal = try ChatTerminal(["--port", String(system.port), "--history-file", folder.appendingPathComponent("history").path])
        try terminal.waitFor("/help lists the commands")
        terminal.type("/signup \(alice) pw\r/signin \(alice) pw\r")
        try terminal.waitFor("signin successfully")

        let supervisor = system.supervisor.processIdentifier
        kill(supervisor, SIGSTOP)
        var resumed = false
        defer { if !resumed { kill(supervisor, SIGCONT) } }
        kill(try #require(system.childPID("gateway")), SIGKILL)
        try terminal.waitFor("disconnected from the server; reconnecting")
        terminal.type("/to \(bob) typed while offline\r")
        try terminal.waitFor("error: not connected to the server (reconnecting); not sent")
        kill(supervisor, SIGCONT)
        resumed = true
        try terminal.waitFor("reconnected; signed in again as \(alice)", timeout: .seconds(60))

        let reader = try TestClient(port: system.port)
        #expect(try reader.ask("signin \(bob) pw") == "signin successfully")
        terminal.type("/to \(bob) back again\r")
        #expect(try reader.readLine().hasPrefix("\(alice) to \(bob) "))
        #expect(try reader.readLine() == "back again", "the offline line was never sent")
        terminal.type("/quit\r")
        #expect(terminal.process.exits(within: .seconds(30)))
    }
}
