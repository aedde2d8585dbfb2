import ChatRuntime
import ChatTestSupport
import Foundation
import SQLite
import Testing

/// Session resumption (issue 20, docs/protocol.md): a signed-in user asks for a ticket, and a
/// later connection signs in with it instead of the password, once; a ticket used, forged,
/// expired or revoked by `offline` gets `Wrong Password`; a used one presented again revokes
/// its family; forged ones count as failed sign-ins. On both backends.
@Suite(.serialized) struct ResumptionTests {
    /// Signs `uid` in with its password and asks for a ticket.
    private func ticket(for uid: String, on system: ChatSystem) throws -> (TestClient, String) {
        let client = try TestClient(port: system.port)
        #expect(try client.ask("signin \(uid) pw") == "signin successfully")
        let reply = try client.ask("\(uid) ticket")
        let words = reply.split(separator: " ")
        try #require(words.count == 2 && words[0] == "ticket", "\(reply)")
        return (client, String(words[1]))
    }

    @Test(arguments: ChatSystem.Backend.allCases) func aTicketResumesOnceAndIsThenRefused(_ backend: ChatSystem.Backend) throws {
        let system = ChatSystem.shared(backend)
        let uid = try system.registeredUser()
        let (first, ticket) = try ticket(for: uid, on: system)
        first.abort()
        let again = try TestClient(port: system.port)
        #expect(try again.ask("resume \(uid) \(ticket)") == "signin successfully")
        // Signed in for real: the session works, and a new ticket is handed out.
        #expect(try again.ask("\(uid) friends").hasPrefix("friends"))
        let next = try again.ask("\(uid) ticket")
        #expect(next.hasPrefix("ticket ") && next != "ticket \(ticket)")
        // Another account's ticket, and forged ones, are no good.
        let stranger = try TestClient(port: system.port)
        let other = try system.registeredUser()
        #expect(try stranger.ask("resume \(other) \(next.dropFirst("ticket ".count))") == "Wrong Password")
        #expect(try stranger.ask("resume \(uid) 00000000000000000000000000000000") == "Wrong Password")
        #expect(try stranger.ask("resume \(TestUIDs.make()) 00000000000000000000000000000000") == "Wrong Password")
        #expect(try stranger.ask("resume \(uid) not-a-ticket") == "Wrong sign command")
        // The ticket handed out last is still good: the failures did not touch it.
        again.abort()
        #expect(try stranger.ask("resume \(uid) \(next.dropFirst("ticket ".count))") == "signin successfully")
    }

    /// A used ticket presented again (a copy, stolen) is refused, and so is every ticket of its
    /// family: the thief who resumed first cannot carry on with the newer one, nor ask for
    /// another while its session lasts, which ends when the owner signs in again. Another
    /// device's tickets, and the password, still work.
    @Test(arguments: ChatSystem.Backend.allCases) func aUsedTicketAgainRevokesItsFamily(_ backend: ChatSystem.Backend) throws {
        let system = ChatSystem.shared(backend)
        let uid = try system.registeredUser()
        let (laptop, laptopTicket) = try ticket(for: uid, on: system)
        laptop.abort()
        let (phone, stolen) = try ticket(for: uid, on: system)
        phone.abort()
        let thief = try TestClient(port: system.port)
        #expect(try thief.ask("resume \(uid) \(stolen)") == "signin successfully")
        let thiefsNext = try thief.ask("\(uid) ticket")
        #expect(thiefsNext.hasPrefix("ticket "))
        // The phone comes back with the ticket the thief used: refused, and the family revoked.
        let owner = try TestClient(port: system.port)
        #expect(try owner.ask("resume \(uid) \(stolen)") == "Wrong Password")
        #expect(try thief.ask("\(uid) ticket") == "Permission denied", "a revoked family gets no new ticket")
        let thiefAgain = try TestClient(port: system.port)
        #expect(try thiefAgain.ask("resume \(uid) \(thiefsNext.dropFirst("ticket ".count))") == "Wrong Password")
        #expect(system.log.contains("a used resumption ticket presented again"))
        // The phone signs in with its password, which ends the thief's session; the laptop's
        // family was not touched.
        #expect(try owner.ask("signin \(uid) pw") == "signin successfully")
        #expect(try thief.readLine() == "Signed in elsewhere")
        owner.abort()
        #expect(try thiefAgain.ask("resume \(uid) \(laptopTicket)") == "signin successfully")
    }

    /// `offline` ends this device's tickets, not the other devices'.
    @Test(arguments: ChatSystem.Backend.allCases) func signingOutRevokesThatDevicesTickets(_ backend: ChatSystem.Backend) throws {
        let system = ChatSystem.shared(backend)
        let uid = try system.registeredUser()
        let (laptop, laptopTicket) = try ticket(for: uid, on: system)
        laptop.abort()
        let (phone, phoneTicket) = try ticket(for: uid, on: system)
        try phone.sendLine("offline")
        #expect(phone.isClosedByServer(within: 5))
        // The revocation went to auth before the connection closed, on the same socket.
        let later = try TestClient(port: system.port)
        #expect(try later.ask("resume \(uid) \(phoneTicket)") == "Wrong Password")
        #expect(try later.ask("resume \(uid) \(laptopTicket)") == "signin successfully")
    }

    /// An expired ticket is refused without counting against anyone (it was its owner's);
    /// forged ones count as wrong passwords, and past the free ones the account must wait.
    @Test func anExpiredTicketIsRefusedAndForgedOnesAreThrottled() throws {
        let port = try LocalPorts.free(1)[0]
        let system = try ChatSystem(settings: ["auth.resume_ticket_seconds=1", "auth.free_failed_sign_ins_per_account=2",
                                               "metrics.listen=\"127.0.0.1:\(port)\"", "telemetry.interval_ms=200"])
        defer { system.stop(); system.removeData() }
        func counter(_ name: String, _ label: String) -> Double { MetricsPage.sum(port: port, name, label: label) }
        let uid = try system.registeredUser()
        let (_, ticket) = try ticket(for: uid, on: system)
        Thread.sleep(forTimeInterval: 2.1)
        let late = try TestClient(port: system.port)
        #expect(try late.ask("resume \(uid) \(ticket)") == "Wrong Password")
        try waitUntil("the stale resume counted", timeout: .seconds(10)) { counter("chat_resumes_total", "result=\"stale\"") == 1 }
        #expect(counter("chat_sign_ins_total", "result=\"failed\"") == 0, "an expired ticket is no failed sign-in")
        // Forged ones are failed sign-ins; past the account's two free ones, the next waits,
        // as after wrong passwords (from an address its owner has not signed in from).
        let stranger = try TestClient(port: system.port, from: "127.0.0.2")
        for _ in 0..<4 { _ = try stranger.ask("resume \(uid) 00000000000000000000000000000000", timeout: 30) }
        try waitUntil("the forged resumes counted", timeout: .seconds(10)) {
            counter("chat_resumes_total", "result=\"unknown\"") + counter("chat_sign_ins_total", "result=\"throttled\"") == 4
        }
        #expect(counter("chat_sign_ins_total", "result=\"throttled\"") >= 1, "the account's failed resumes started a wait")
        #expect(counter("chat_sign_ins_total", "result=\"failed\"") == counter("chat_resumes_total", "result=\"unknown\""))
    }

    /// A ticket is bound to the password it was issued under: a new password (the protocol has
    /// no command for it; here the stored hash is rewritten) leaves it good for nothing.
    @Test func aNewPasswordRevokesTheTickets() throws {
        let system = try ChatSystem()
        defer { system.stop(); system.removeData() }
        let uid = try system.registeredUser()
        let (_, ticket) = try ticket(for: uid, on: system)
        let accounts = try Database(path: system.dataDirectory.appendingPathComponent("auth/accounts.sqlite").path, create: false)
        try accounts.prepare("UPDATE users SET salt = randomblob(16) WHERE uid = ?").bind(.text(uid)).run()
        let later = try TestClient(port: system.port)
        #expect(try later.ask("resume \(uid) \(ticket)") == "Wrong Password")
    }
}
