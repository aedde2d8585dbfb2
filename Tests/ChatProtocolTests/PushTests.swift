import ChatProtocol
import Testing

@Suite struct PushTests {
    let sha = String(repeating: "0a", count: 32)
    let token = String(repeating: "f0", count: 16)
    let key = String(repeating: "1e", count: 16)

    private var oneLinePushes: [(Push, String)] {
        [
            (.addFriend(from: "111111", to: "222222"), "111111 to 222222 addFriend\n"),
            (.p2pOffer(from: "111111", to: "222222", token: token, size: 1_048_576, sha256: sha, name: "my photo (1).jpg"),
             "111111 to 222222 p2p offer \(token) 1048576 \(sha) my photo (1).jpg\n"),
            (.p2pConnect(from: "222222", to: "111111", token: token, peerPublic: "203.0.113.7:40001", peerPrivate: "192.168.1.20:40001",
                         relayKey: key),
             "222222 to 111111 p2p connect \(token) 203.0.113.7:40001 192.168.1.20:40001 \(key)\n"),
            (.p2pDeclined(from: "222222", to: "111111", token: token), "222222 to 111111 p2p declined \(token)\n"),
        ]
    }

    @Test func oneLinePushesAreSpelledExactly() {
        for (push, text) in oneLinePushes {
            #expect(push.bytes == Array(text.utf8), "\(text)")
        }
    }

    @Test func oneLinePushesReadBack() {
        for (push, _) in oneLinePushes {
            #expect(PushFirstLine(line: Array(push.bytes.dropLast())) == .push(push))
        }
        #expect(Push.addFriend(from: "111111", to: "222222").sender == "111111")
        #expect(Push.p2pDeclined(from: "222222", to: "111111", token: token).sender == "222222")
    }

    /// A message push is its record: the header line, then the content or name line.
    @Test func aMessagePushIsItsRecordAndReadsBackInTwoLines() throws {
        let header = MessageHeader(sender: "111111", recipient: "222222", timestamp: "202004131702", kind: .audio(size: 9))
        let push = Push.message(HistoryRecord(header: header, body: "202004131702_audio.ogg"))
        #expect(push.bytes == Array("111111 to 222222 202004131702 audio 9\n202004131702_audio.ogg\n".utf8))
        #expect(push.sender == "111111")

        let lines = push.bytes.split(separator: UInt8(ascii: "\n")).map(Array.init)
        guard case .messageHeader(let read) = PushFirstLine(line: lines[0]) else { Issue.record("not a header"); return }
        #expect(read == header)
        #expect(Push.message(try #require(HistoryRecord(header: read, bodyLine: lines[1]))) == push)
    }

    @Test(arguments: [
        "111111 to 222222 addFriend now", "111111 to 22222 addFriend", "11111 to 222222 addFriend", "111111 at 222222 addFriend",
        "111111 to 222222 p2p offer TOKEN 10 SHA", "111111 to 222222 p2p offer TOKEN x SHA a.txt",
        "111111 to 222222 p2p offer TOKEN 10 abc a.txt", "111111 to 222222 p2p offer short 10 SHA a.txt",
        "111111 to 222222 p2p offer TOKEN 10 SHA ..", "111111 to 222222 p2p connect TOKEN 1.2.3.4:5",
        "111111 to 222222 p2p connect TOKEN 1.2.3.4:5 1.2.3.4:5", "111111 to 222222 p2p connect TOKEN 1.2.3.4:5 1.2.3.4:5 short",
        "111111 to 222222 p2p connect TOKEN  1.2.3.4:5", "111111 to 222222 p2p declined TOKEN extra",
        "111111 to 222222 p2p declined", "111111 to 222222 p2p shrug TOKEN", "111111 to 222222 202004131702 text extra",
        "111111 to 222222 hello", "111111 to 222222",
    ])
    func malformedPushesAreRejected(_ template: String) {
        let text = template.replacingOccurrences(of: "SHA", with: sha).replacingOccurrences(of: "TOKEN", with: token)
        #expect(PushFirstLine(line: Array(text.utf8)) == nil, "\(text)")
    }

    /// The client tells pushes from replies by the first line alone.
    @Test func noReplyReadsAsAPush() {
        let replies: [ServerReply] = [
            .signUpSucceeded, .uidAlreadyExists, .signInSucceeded, .uidNotExits, .wrongPassword, .wrongSignCommand,
            .wrongInteractCommand, .permissionDenied, .ok, .targetUserOffline, .fileTooLarge, .invalidFileName,
            .noHistoryYet, .noSuchFile, .serviceUnavailable, .messageTooLong, .signedInElsewhere, .p2pOffered(token: token),
            .p2pConnect(token: token, peerPublic: "1.2.3.4:5", peerPrivate: "10.0.0.1:5", relayKey: key), .noSuchTransfer, .p2pRelayReady,
            .tooManyOffers,
            .dataSize(12), .friends([("111111", true)]), .tooManyConnections,
        ]
        for reply in replies {
            #expect(PushFirstLine(line: Array(reply.text.utf8)) == nil, "\(reply.text)")
        }
    }
}
