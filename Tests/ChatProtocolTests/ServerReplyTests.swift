import ChatProtocol
import Testing

/// The reply bytes are the contract: typos and double spaces included.
@Suite struct ServerReplyTests {
    static let token = String(repeating: "f0", count: 16)
    var token: String { Self.token }
    let key = String(repeating: "1e", count: 16)

    var expected: [(ServerReply, String)] {
        [
            (.signUpSucceeded, "signup successfully\n"),
            (.uidAlreadyExists, "uid already exists\n"),
            (.signInSucceeded, "signin successfully\n"),
            (.uidNotExits, "uid not exits\n"),
            (.wrongPassword, "Wrong Password\n"),
            (.wrongSignCommand, "Wrong sign command\n"),
            (.wrongInteractCommand, "Wrong  interact command\n"),
            (.permissionDenied, "Permission denied\n"),
            (.ok, "ok\n"),
            (.targetUserOffline, "Target user offline\n"),
            (.fileTooLarge, "File too large\n"),
            (.invalidFileName, "Invalid file name\n"),
            (.noHistoryYet, "you two have no history yet\n"),
            (.noSuchFile, "No such file\n"),
            (.serviceUnavailable, "Service unavailable\n"),
            (.messageTooLong, "Message too long\n"),
            (.signedInElsewhere, "Signed in elsewhere\n"),
            (.storageQuotaExceeded, "Storage quota exceeded\n"),
            (.tooManyConnections, "Too many connections\n"),
            (.tooManySignUps, "Too many sign-ups, try again later\n"),
            (.dataSize(1234), "server_data_size1234\n"),
            (.dataSize(0), "server_data_size0\n"),
            (.p2pOffered(token: token), "p2p offered \(token)\n"),
            (.p2pConnect(token: token, peerPublic: "203.0.113.7:40001", peerPrivate: "192.168.1.20:40001", relayKey: key),
             "p2p connect \(token) 203.0.113.7:40001 192.168.1.20:40001 \(key)\n"),
            (.noSuchTransfer, "No such transfer\n"),
            (.tooManyOffers, "Too many offers, try again later\n"),
            (.p2pRelayReady, "p2p relay ready\n"),
            (.friends([]), "friends\n"),
            (.friends([("111111", true), ("222222", false)]), "friends 111111:online 222222:offline\n"),
        ]
    }

    @Test func spelledAsTheProtocolSpellsThem() {
        for (reply, line) in expected {
            #expect(reply.line == Array(line.utf8), "\(reply)")
        }
    }

    /// The client reads back every reply the server writes.
    @Test func everyReplyReadsBack() throws {
        for (reply, line) in expected {
            #expect(ServerReply(text: reply.text) == reply, "\(line)")
            #expect(ServerReply(line: reply.line) == reply, "\(line)")
            #expect(ServerReply(line: Array(line.utf8.dropLast())) == reply, "\(line)")
        }
        guard case .friends(let entries) = try #require(ServerReply(text: "friends 111111:online 222222:offline")) else {
            Issue.record("not a friend list"); return
        }
        #expect(entries.map(\.uid) == ["111111", "222222"] && entries.map(\.online) == [true, false])
        guard case .dataSize(let count) = try #require(ServerReply(text: "server_data_size9223372036854775807")) else {
            Issue.record("not a data size"); return
        }
        #expect(count == Int.max)
    }

    @Test(arguments: [
        "", "OK", "ok ", " ok", "Wrong interact command", "uid not exists", "signin successfully\r",
        "server_data_size", "server_data_size-1", "server_data_size+1", "server_data_size 1", "server_data_size12a",
        "server_data_size99999999999999999999", "server_data_size9223372036854775808",
        "friends ", "friends 11111:online", "friends 111111:away", "friends 111111", "friends  111111:online",
        "p2p offered", "p2p offered abc", "p2p offered TOKEN extra", "p2p connect TOKEN 1.2.3.4:5",
        "p2p connect TOKEN  1.2.3.4:5", "p2p connect short 1.2.3.4:5 1.2.3.4:5",
        "p2p connect TOKEN 1.2.3.4:5 1.2.3.4:5", "p2p connect TOKEN 1.2.3.4:5 1.2.3.4:5 short", "Too many offers", "p2p relay", "p2p relay ready now",
        "111111 to 222222 addFriend",
    ])
    func otherLinesAreNotReplies(_ template: String) {
        let text = template.replacingOccurrences(of: "TOKEN", with: token)
        #expect(ServerReply(text: text) == nil, "\(text.debugDescription)")
    }
}
