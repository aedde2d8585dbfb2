import ChatTestSupport
import Foundation
import Testing

/// Sessions coming and going: kicks, disconnects, friends, timeouts.
@Suite struct PresenceTests {
    @Test(arguments: ChatSystem.Backend.allCases) func secondSignInWinsAndTheFirstIsTold(_ backend: ChatSystem.Backend) throws {
        let system = ChatSystem.shared(backend)
        let uid = TestUIDs.make()
        let first = try TestClient(port: system.port)
        try first.signUpAndIn(uid)
        let second = try TestClient(port: system.port)
        #expect(try second.ask("signin \(uid) pw") == "signin successfully")
        #expect(try first.readLine() == "Signed in elsewhere")
        #expect(first.isClosedByServer(within: 5))
        // Messages now reach the newer session.
        let sender = try TestClient(port: system.port)
        let s = TestUIDs.make()
        try sender.signUpAndIn(s)
        #expect(try sender.ask("\(s) to \(uid) 202004131702 text\nto the new one") == "ok")
        #expect(try second.readLine() == "\(s) to \(uid) 202004131702 text")
        #expect(try second.readLine() == "to the new one")
    }

    @Test(arguments: ChatSystem.Backend.allCases) func abruptDisconnectMakesTheUserOfflineWithinTwoSeconds(_ backend: ChatSystem.Backend) throws {
        let system = ChatSystem.shared(backend)
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        bob.abort()
        // Two seconds is what the test asserts, not a guess at how long it takes.
        var reply = ""
        try waitUntil("\(b) offline for \(a) after an abrupt disconnect (last reply: \(reply))", timeout: .seconds(2)) {
            reply = try alice.ask("\(a) to \(b) 202004131702 text\nstill there?")
            return reply == "Target user offline"
        }
    }

    @Test(arguments: ChatSystem.Backend.allCases) func offlineClosesTheSessionAndTheUserIsOffline(_ backend: ChatSystem.Backend) throws {
        let system = ChatSystem.shared(backend)
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        try bob.sendLine("offline")
        #expect(bob.isClosedByServer(within: 5))
        var reply = ""
        try waitUntil("\(b) offline for \(a) after offline (last reply: \(reply))", timeout: .seconds(5)) {
            reply = try alice.ask("\(a) to \(b) 202004131702 text\nbye?")
            return reply == "Target user offline"
        }
    }

    @Test(arguments: ChatSystem.Backend.allCases) func friendsAreOneWayOrderedAndShowPresence(_ backend: ChatSystem.Backend) throws {
        let system = ChatSystem.shared(backend)
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        let carol = TestUIDs.make()
        try TestClient(port: system.port).ask("signup \(carol) pw").ensure("signup successfully")

        #expect(try alice.ask("\(a) friends") == "friends")
        #expect(try alice.ask("\(a) to \(carol) addFriend") == "ok")
        #expect(try alice.ask("\(a) to \(b) addFriend") == "ok")
        #expect(try bob.readLine() == "\(a) to \(b) addFriend")
        #expect(try alice.ask("\(a) to \(b) addFriend") == "ok")
        #expect(try alice.ask("\(a) to \(TestUIDs.make()) addFriend") == "uid not exits")
        #expect(try alice.ask("\(a) to \(a) addFriend") == "Wrong  interact command")
        let ordered = [(b, "online"), (carol, "offline")].sorted { $0.0 < $1.0 }
        #expect(try alice.ask("\(a) friends") == "friends" + ordered.map { " \($0.0):\($0.1)" }.joined())
        // One-way: bob's list is still empty.
        #expect(try bob.ask("\(b) friends") == "friends")
    }

    @Test(arguments: ChatSystem.Backend.allCases) func pushesNeverLandInsideAHistoryDownload(_ backend: ChatSystem.Backend) throws {
        let system = ChatSystem.shared(backend)
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        let record = "\(b) to \(a) 202004131702 text\nfrom bob\n"
        #expect(try bob.ask(String(record.dropLast())) == "ok")
        _ = try alice.readLine(); _ = try alice.readLine()
        #expect(try alice.ask("\(a) history \(b) all") == "server_data_size\(record.utf8.count)")
        // While alice has not answered, bob's next message is held back.
        #expect(try bob.ask("\(b) to \(a) 202004131703 text\nduring the exchange") == "ok")
        // Bounded on purpose: the push must not arrive while the exchange is open.
        #expect(alice.staysQuiet(for: 0.3))
        try alice.sendLine("ok")
        #expect(try alice.read(count: record.utf8.count) == Array(record.utf8))
        #expect(try alice.readLine() == "\(b) to \(a) 202004131703 text")
        #expect(try alice.readLine() == "during the exchange")
    }
}

/// Deadlines for connections that do not finish signing in or leave a line half-sent.
@Suite(.serialized) struct DeadlineTests {
    @Test func slowClientsAreClosed() throws {
        let system = try ChatSystem(settings: ["gateway.login_timeout_seconds=1", "gateway.partial_line_timeout_seconds=1"])
        defer { system.stop(); system.removeData() }
        let idle = try TestClient(port: system.port)
        #expect(idle.isClosedByServer(within: 5))

        let signedIn = try TestClient(port: system.port), uid = TestUIDs.make()
        try signedIn.signUpAndIn(uid)
        // Signed in: idle is fine past the login deadline (a bounded wait on purpose: the
        // connection must not be closed for 1.5 s, past the 1 s deadline) ...
        #expect(signedIn.staysQuiet(for: 1.5))
        #expect(try signedIn.ask("\(uid) friends") == "friends")
        // ... but a half-sent line is not.
        try signedIn.send("\(uid) fri")
        #expect(signedIn.isClosedByServer(within: 5))
    }

    @Test(arguments: [true, false])
    func stalledDownloadsAreClosed(sendfile: Bool) throws {
        // At debug level the gateway logs why it closes a connection.
        let system = try ChatSystem(settings: ["gateway.partial_line_timeout_seconds=1", "gateway.send_local_files=\(sendfile)",
                                               "log_level=\"debug\""])
        defer { system.stop(); system.removeData() }
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        // Far more than the sockets' buffers hold, so the gateway still has bytes to send.
        let size = 64 << 20
        #expect(try bob.ask("\(b) to \(a) 202004131702 file \(size)\nbig.bin") == "ok")
        try bob.send([UInt8](repeating: 7, count: size))
        #expect(try bob.readReply(timeout: 60) == "ok")
        #expect(try alice.readLine() == "\(b) to \(a) 202004131702 file \(size)")
        #expect(try alice.readLine() == "big.bin")
        #expect(try alice.ask("\(a) history \(b) filename big.bin") == "server_data_size\(size)")
        try alice.sendLine("ok")
        // Alice reads nothing until the gateway gives up on her download ...
        try waitUntil("the gateway to close the stalled download; log:\n\(system.log.suffix(4000))", timeout: .seconds(20)) {
            system.log.contains("closing a connection whose download stalled")
        }
        // ... and then finds her connection closed.
        #expect(alice.isClosedByServer(within: 20))
    }
}
