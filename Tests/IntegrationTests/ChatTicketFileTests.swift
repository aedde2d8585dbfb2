import ChatTestSupport
import Foundation
import Testing

/// `chat --ticket-file`: the session's resumption ticket kept in an owner-only file, so the
/// next run signs in without the password; `/quit` leaves the session resumable, `/signout`
/// ends it.
@Suite struct ChatTicketFileTests {
    @Test func theNextRunSignsInWithTheSavedTicketUntilSignOut() throws {
        let system = ChatSystem.shared
        let bob = try system.registeredUser(), alice = TestUIDs.make()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chat-ticket-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("ticket").path
        let arguments = ["--port", String(system.port), "--ticket-file", file]
        func saved() -> String? { FileManager.default.contents(atPath: file).map { String(decoding: $0, as: UTF8.self) } }

        // A password sign-in; leaving with /quit keeps the session for the next run.
        _ = try ScriptedChat(arguments, script: "/signup \(alice) pw\n/signin \(alice) pw\n/wait 1\n/quit\n").finish()
        let first = try #require(saved(), "no ticket saved")
        #expect(first.hasPrefix("\(alice) ") && first.count == 6 + 1 + 32 + 1, "\(first)")
        let mode = try #require(FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int)
        #expect(mode == 0o600, "mode \(String(mode, radix: 8))")

        // The next run has no password: it signs in with the ticket, and saves the next one.
        let reader = try TestClient(port: system.port)
        #expect(try reader.ask("signin \(bob) pw") == "signin successfully")
        let second = try ScriptedChat(arguments, script: "/to \(bob) hello from a saved ticket\n/wait 1\n/quit\n").finish()
        #expect(second.contains("signing in as \(alice) with the ticket saved in \(file)"), "\(second)")
        #expect(second.contains("signin successfully"), "\(second)")
        #expect(try reader.readLine().hasPrefix("\(alice) to \(bob) "))
        #expect(try reader.readLine() == "hello from a saved ticket")
        let next = try #require(saved(), "the next ticket was not saved")
        #expect(next != first)

        // /signout ends the session: the file goes, and the ticket it held is good no more.
        let third = try ScriptedChat(arguments, script: "", moreToCome: true)
        try third.waitForOutput(containing: ["signin successfully"])
        try waitUntil("the third run's ticket saved", timeout: .seconds(10)) { saved().map { $0 != next } ?? false }
        let signedOut = try #require(saved())
        try third.send("/signout\n")
        _ = try third.finish()
        #expect(saved() == nil, "the ticket file is left after /signout")
        try Data(signedOut.utf8).write(to: URL(fileURLWithPath: file))
        chmod(file, 0o600)
        let fourth = try ScriptedChat(arguments, script: "").finish()
        #expect(fourth.contains("Wrong Password") && fourth.contains("was refused; sign in as \(alice) with /signin"), "\(fourth)")
    }

    /// A server that refuses the connection before reading it (`Too many connections`) has
    /// not looked at the ticket: the file keeps it for the next run.
    @Test func aTicketRefusedUnreadIsKept() throws {
        let system = try ChatSystem(settings: ["gateway.max_unauthenticated_per_address=1"])
        defer { system.stop(); system.removeData() }
        let alice = try system.registeredUser()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("chat-ticket-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let saved = "\(alice) \(String(repeating: "0f", count: 16))\n"
        try Data(saved.utf8).write(to: URL(fileURLWithPath: file))
        chmod(file, 0o600)
        // This address's one connection not signed in yet.
        let holder = try TestClient(port: system.port)
        defer { holder.abort() }
        let output = try ScriptedChat(["--port", String(system.port), "--ticket-file", file], script: "").finish()
        #expect(output.contains("Too many connections"), "\(output)")
        #expect(output.contains("it is kept for the next run"), "\(output)")
        #expect(FileManager.default.contents(atPath: file).map { String(decoding: $0, as: UTF8.self) } == saved)
    }

    @Test func aTicketFileOthersMayReadIsNotUsed() throws {
        let system = ChatSystem.shared
        let alice = try system.registeredUser()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("chat-ticket-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Data("\(alice) \(String(repeating: "0f", count: 16))\n".utf8).write(to: URL(fileURLWithPath: file))
        chmod(file, 0o644)
        let output = try ScriptedChat(["--port", String(system.port), "--ticket-file", file], script: "").finish()
        #expect(output.contains("the ticket file \(file) may be read by others"), "\(output)")
        #expect(!output.contains("signing in as"), "\(output)")
    }
}
