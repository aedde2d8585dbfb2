import ChatProtocol
import Testing

/// What the client writes is what the server's parsers read: each command is checked for its
/// exact bytes, then decoded by the parser of the phase it is sent in.
@Suite struct ClientCommandTests {
    let sha = String(repeating: "0a", count: 32)
    let token = String(repeating: "f0", count: 16)
    let password = String(repeating: "ab", count: 32)
    let session = SessionCommandParser(uid: "111111")
    let relayKey = String(repeating: "1e", count: 16)

    @Test func loginCommandsAreSpelledExactlyAndParse() {
        let expected: [(ClientCommand, String, LoginCommand)] = [
            (.signUp(uid: "111111", password: password), "signup 111111 \(password)\n", .signUp(uid: "111111", password: password)),
            (.signIn(uid: "111111", password: password), "signin 111111 \(password)\n", .signIn(uid: "111111", password: password)),
            (.offline, "offline\n", .offline),
            (.p2pRelay(token: token, key: relayKey), "p2p relay \(token) \(relayKey)\n", .p2pRelay(token: token, key: relayKey)),
        ]
        for (command, line, parsed) in expected {
            #expect(command.bytes == Array(line.utf8), "\(line)")
            #expect(LoginCommand(line: Array(command.bytes.dropLast())) == parsed, "\(line)")
        }
    }

    @Test func sessionCommandsAreSpelledExactlyAndParse() {
        let expected: [(ClientCommand, String, SessionCommand)] = [
            (.historyAll(uid: "111111", peer: "222222"), "111111 history 222222 all\n", .historyAll(peer: "222222")),
            (.historyFile(uid: "111111", peer: "222222", name: "my file (2).txt"), "111111 history 222222 filename my file (2).txt\n",
             .historyFile(peer: "222222", name: "my file (2).txt")),
            (.addFriend(uid: "111111", peer: "222222"), "111111 to 222222 addFriend\n", .addFriend(peer: "222222")),
            (.friends(uid: "111111"), "111111 friends\n", .friends),
            (.offline, "offline\n", .offline),
            (.p2p(uid: "111111", .offer(peer: "222222", size: 42, sha256: sha, privateEndpoint: "192.168.1.20:40001", name: "a b.txt")),
             "111111 p2p offer 222222 42 \(sha) 192.168.1.20:40001 a b.txt\n",
             .p2p(.offer(peer: "222222", size: 42, sha256: sha, privateEndpoint: "192.168.1.20:40001", name: "a b.txt"))),
            (.p2p(uid: "111111", .accept(token: token, privateEndpoint: "10.0.0.2:5000")), "111111 p2p accept \(token) 10.0.0.2:5000\n",
             .p2p(.accept(token: token, privateEndpoint: "10.0.0.2:5000"))),
            (.p2p(uid: "111111", .decline(token: token)), "111111 p2p decline \(token)\n", .p2p(.decline(token: token))),
        ]
        for (command, line, parsed) in expected {
            #expect(command.bytes == Array(line.utf8), "\(line)")
            #expect(command.text + "\n" == line)
            #expect(session.parse(Array(command.bytes.dropLast())) == .command(parsed), "\(line)")
        }
    }

    /// A message is two lines: the header the session parser reads, then the content or name.
    @Test func messagesAreTwoLines() {
        let text = MessageHeader(sender: "111111", recipient: "222222", timestamp: "202004131702", kind: .text)
        let file = MessageHeader(sender: "111111", recipient: "222222", timestamp: "202004131702", kind: .file(size: 5))
        let expected: [(ClientCommand, String)] = [
            (.message(header: text, body: "hello there"), "111111 to 222222 202004131702 text\nhello there\n"),
            (.message(header: text, body: ""), "111111 to 222222 202004131702 text\n\n"),
            (.message(header: file, body: "a.txt"), "111111 to 222222 202004131702 file 5\na.txt\n"),
        ]
        for (command, lines) in expected {
            #expect(command.bytes == Array(lines.utf8), "\(lines)")
            #expect(command.text + "\n" == lines)
            let first = Array(command.bytes.prefix { $0 != UInt8(ascii: "\n") })
            #expect(session.parse(first) == .command(.message(command == expected[2].0 ? file : text)))
        }
    }

    @Test func dataAnswers() {
        #expect(ClientCommand.dataAnswer(.accept).bytes == Array("ok\n".utf8))
        #expect(ClientCommand.dataAnswer(.cancel).bytes == Array("no\n".utf8))
        #expect(DataAnswer(line: Array("ok".utf8)) == .accept)
        for other in ["no", "", "OK", "ok ", " ok", "okay"] {
            #expect(DataAnswer(line: Array(other.utf8)) == .cancel, "\(other)")
        }
    }

    @Test func aClientEndpointPrintsAsTheServerParsesIt() {
        #expect(Endpoint(host: "192.168.1.20", port: 40001).description == "192.168.1.20:40001")
        #expect(Endpoint(host: "::1", port: 5000).description == "[::1]:5000")
        #expect(Endpoint("[::1]:5000") == Endpoint(host: "::1", port: 5000))
    }
}
