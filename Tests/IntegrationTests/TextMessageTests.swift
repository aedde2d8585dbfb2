import Foundation
import Testing

/// Text chat, history and the session phase's refusals, through the real processes.
@Suite struct TextMessageTests {
    @Test(arguments: ChatSystem.Backend.allCases) func onlineRecipientGetsExactlyTheRequestBytes(_ backend: ChatSystem.Backend) throws {
        let system = ChatSystem.shared(backend)
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        try alice.send("\(a) to \(b) 202004131702 text\r\nhello bob, ünïcode\r\n")
        #expect(try alice.readLine() == "ok")
        #expect(try bob.readLine() == "\(a) to \(b) 202004131702 text")
        #expect(try bob.readLine() == "hello bob, ünïcode")
    }

    @Test(arguments: ChatSystem.Backend.allCases) func offlineAndUnknownRecipients(_ backend: ChatSystem.Backend) throws {
        let system = ChatSystem.shared(backend)
        let (alice, a) = try system.signedInUser()
        let bob = try system.registeredUser()
        #expect(try alice.ask("\(a) to \(bob) 202004131702 text\nare you there") == "Target user offline")
        #expect(try alice.ask("\(a) to \(TestUIDs.make()) 202004131702 text\nhello?") == "uid not exits")
    }

    @Test(arguments: ChatSystem.Backend.allCases) func historyHoldsBothDirectionsInCommitOrder(_ backend: ChatSystem.Backend) throws {
        let system = ChatSystem.shared(backend)
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        #expect(try alice.ask("\(a) history \(b) all") == "you two have no history yet")
        let sent = [
            (alice, "\(a) to \(b) 202004131702 text\nfirst\n"),
            (bob, "\(b) to \(a) 202004131703 text\nsecond\n"),
            (alice, "\(a) to \(b) 202004131704 text\nthird, with spaces and \u{1F600}\n"),
        ]
        for (client, request) in sent {
            try client.send(request)
            #expect(try client.readReply() == "ok")
        }
        let expected = Array(sent.map(\.1).joined().utf8)
        for (client, me, peer) in [(alice, a, b), (bob, b, a)] {
            try client.sendLine("\(me) history \(peer) all")
            #expect(try client.readReply() == "server_data_size\(expected.count)")
            try client.sendLine("ok")
            #expect(try client.read(count: expected.count) == expected)
            #expect(client.staysQuiet(for: 0.2))
        }
        #expect(bob.pushes.map(\.body) == ["first", "third, with spaces and \u{1F600}"])
        #expect(alice.pushes.map(\.body) == ["second"])
    }

    @Test(arguments: ChatSystem.Backend.allCases) func spoofedSenderIsDeniedAndNothingIsDelivered(_ backend: ChatSystem.Backend) throws {
        let system = ChatSystem.shared(backend)
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        let c = try system.registeredUser()
        #expect(try alice.ask("\(c) to \(b) 202004131702 text\nI am c") == "Permission denied")
        #expect(try alice.ask("\(c) to \(b) addFriend") == "Permission denied")
        #expect(try alice.ask("\(c) friends") == "Permission denied")
        #expect(bob.staysQuiet(for: 0.5))
        #expect(try bob.ask("\(b) history \(c) all") == "you two have no history yet")
        _ = a
    }

    @Test(arguments: ChatSystem.Backend.allCases) func aThirdUserCannotReadAPairsHistory(_ backend: ChatSystem.Backend) throws {
        let system = ChatSystem.shared(backend)
        let (alice, a) = try system.signedInUser()
        let b = try system.registeredUser()
        let (carol, c) = try system.signedInUser()
        #expect(try alice.ask("\(a) to \(b) 202004131702 text\nprivate") == "Target user offline")
        #expect(try carol.ask("\(a) history \(b) all") == "Permission denied")
        #expect(try carol.ask("\(c) history \(a) all") == "you two have no history yet")
    }

    @Test(arguments: ChatSystem.Backend.allCases, ["", "garbage", "to", "111111", "x to y z", "signin 123456 pw", "111111 to 222222 202004131702 texts"]) func garbageIsAWrongInteractCommand(_ backend: ChatSystem.Backend, _ line: String) throws {
        let system = ChatSystem.shared(backend)
        let (client, uid) = try system.signedInUser()
        #expect(try client.ask(line) == "Wrong  interact command")
        #expect(try client.ask("\(uid) friends") == "friends")
    }

    @Test(arguments: ChatSystem.Backend.allCases) func malformedTwoLineCommandsConsumeTheirContentLine(_ backend: ChatSystem.Backend) throws {
        let system = ChatSystem.shared(backend)
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        // The content "offline" must not be taken for a command.
        #expect(try alice.ask("\(a) to \(b) 202013131702 text\noffline") == "Wrong  interact command")
        #expect(try alice.ask("\(b) to \(a) 202004131702 text\noffline") == "Permission denied")
        #expect(try alice.ask("\(a) to \(b) 202004131702 text\n\u{7f}fine") == "ok")
        #expect(try bob.readLine().hasSuffix("text"))
        #expect(try bob.readLine() == "\u{7f}fine")
    }

    @Test(arguments: ChatSystem.Backend.allCases) func invalidUTF8ContentIsRefusedAndNotStored(_ backend: ChatSystem.Backend) throws {
        let system = ChatSystem.shared(backend)
        let (alice, a) = try system.signedInUser()
        let b = try system.registeredUser()
        try alice.send(Array("\(a) to \(b) 202004131702 text\n".utf8) + [0x68, 0xff, 0x69, 10])
        #expect(try alice.readLine() == "Wrong  interact command")
        #expect(try alice.ask("\(a) history \(b) all") == "you two have no history yet")
    }

    @Test(arguments: ChatSystem.Backend.allCases) func overLongLinesAreRefusedAndTheConnectionStaysUsable(_ backend: ChatSystem.Backend) throws {
        let system = ChatSystem.shared(backend)
        let (alice, a) = try system.signedInUser()
        let b = try system.registeredUser()
        let tooLong = String(repeating: "x", count: 65_537)
        #expect(try alice.ask(tooLong) == "Message too long")
        #expect(try alice.ask("\(a) friends") == "friends")
        // A too-long content line refuses the whole text: one reply, nothing stored.
        #expect(try alice.ask("\(a) to \(b) 202004131702 text\n\(tooLong)") == "Message too long")
        #expect(alice.staysQuiet(for: 0.3))
        #expect(try alice.ask("\(a) history \(b) all") == "you two have no history yet")
        // Exactly 65536 bytes is allowed.
        let longest = String(repeating: "y", count: 65_536)
        #expect(try alice.ask("\(a) to \(b) 202004131702 text\n\(longest)") == "Target user offline")
    }

    @Test(arguments: ChatSystem.Backend.allCases) func pipelinedCommandsAreAnsweredInOrder(_ backend: ChatSystem.Backend) throws {
        let system = ChatSystem.shared(backend)
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        var burst = ""
        for index in 0..<200 {
            burst += index % 50 == 49 ? "\(a) friends\n" : "\(a) to \(b) 202004131702 text\nmessage \(index)\n"
        }
        try alice.send(burst)
        for index in 0..<200 {
            #expect(try alice.readLine() == (index % 50 == 49 ? "friends" : "ok"))
        }
        for index in 0..<200 where index % 50 != 49 {
            _ = try bob.readLine()
            #expect(try bob.readLine() == "message \(index)")
        }
    }

    @Test(arguments: ChatSystem.Backend.allCases) func historyCanBeDeclined(_ backend: ChatSystem.Backend) throws {
        let system = ChatSystem.shared(backend)
        let (alice, a) = try system.signedInUser()
        let b = try system.registeredUser()
        #expect(try alice.ask("\(a) to \(b) 202004131702 text\nhi") == "Target user offline")
        #expect(try alice.ask("\(a) history \(b) all") == "server_data_size\("\(a) to \(b) 202004131702 text\nhi\n".utf8.count)")
        try alice.sendLine("no thanks")
        #expect(alice.staysQuiet(for: 0.3))
        #expect(try alice.ask("\(a) friends") == "friends")
    }

    @Test(arguments: ChatSystem.Backend.allCases) func historyOfAnUnknownUser(_ backend: ChatSystem.Backend) throws {
        let system = ChatSystem.shared(backend)
        let (alice, a) = try system.signedInUser()
        #expect(try alice.ask("\(a) history \(TestUIDs.make()) all") == "uid not exits")
        #expect(try alice.ask("\(a) history \(TestUIDs.make()) filename x.txt") == "uid not exits")
    }
}

extension String {
    func ensure(_ expected: String) throws {
        guard self == expected else { throw TestClient.Failure(description: "expected \(expected), got \(self)") }
    }
}
