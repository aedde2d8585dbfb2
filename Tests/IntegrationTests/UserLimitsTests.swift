import ChatTestSupport
import Foundation
import Testing

/// Per-user limits on the real system: a flood of messages is slowed to the configured rate
/// with nothing lost or doubled.
@Suite struct UserLimitsTests {
    @Test func aFloodIsSlowedToTheRateAndEveryMessageIsStoredOnce() throws {
        // Four at once, then four a second: 36 texts cannot be through in under 8 s.
        let system = try ChatSystem(settings: ["gateway.messages_per_second=4", "gateway.message_burst=4"])
        defer { system.stop(); system.removeData() }
        let (alice, a) = try system.signedInUser()
        let b = try system.registeredUser()
        let texts = (1...36).map { "flood \($0)" }
        let started = Date()
        try alice.send(texts.map { "\(a) to \(b) 202004131702 text\n\($0)\n" }.joined())

        // Another user, from another address, is not slowed by it.
        Thread.sleep(forTimeInterval: 1)
        let carol = try TestClient(port: system.port, from: "127.0.0.2"), c = TestUIDs.make()
        try carol.signUpAndIn(c)
        let asked = Date()
        #expect(try carol.ask("\(c) to \(b) 202004131702 text\nbystander") == "Target user offline")
        #expect(Date().timeIntervalSince(asked) < 4, "a bystander waited behind the flood")

        for index in texts.indices {
            #expect(try alice.readLine(timeout: 20) == "Target user offline", "reply \(index + 1)")
        }
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed >= 6, "36 texts went through in \(elapsed) s: no rate applied")

        // All of them, in order, exactly once; and the connection still serves commands.
        let history = texts.map { "\(a) to \(b) 202004131702 text\n\($0)\n" }.joined()
        #expect(try alice.ask("\(a) history \(b) all") == "server_data_size\(history.utf8.count)")
        try alice.sendLine("ok")
        #expect(try alice.read(count: history.utf8.count) == Array(history.utf8))
        #expect(try alice.ask("\(a) friends") == "friends")
    }
}
