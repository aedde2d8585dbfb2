import ChatProtocol
import Testing

@Suite struct MessageHeaderTests {
    @Test func encodesEachKindAsTheProtocolSpellsIt() {
        let expected: [(MessageHeader.Kind, String)] = [
            (.text, "111111 to 222222 202004131702 text"),
            (.audio(size: 4096), "111111 to 222222 202004131702 audio 4096"),
            (.file(size: 0), "111111 to 222222 202004131702 file 0"),
        ]
        for (kind, line) in expected {
            let header = MessageHeader(sender: "111111", recipient: "222222", timestamp: "202004131702", kind: kind)
            #expect(header.line == Array(line.utf8))
            #expect(MessageHeader(line: header.line) == header, "\(line)")
        }
    }

    /// What the server parses from its client is what this encoder wrote.
    @Test func theSessionParserReadsWhatIsEncoded() {
        let header = MessageHeader(sender: "111111", recipient: "222222", timestamp: "202402291200", kind: .file(size: 12))
        #expect(SessionCommandParser(uid: "111111").parse(header.line) == .command(.message(header)))
    }

    /// A record keeps the client's bytes: a size sent with leading zeros is not respelled.
    @Test func decodingKeepsTheLineAsReceived() throws {
        let line = Array("111111 to 222222 202004131702 audio 007".utf8)
        let header = try #require(MessageHeader(line: line))
        #expect(header.kind == .audio(size: 7))
        #expect(header.line == line)
        #expect(header.sender == "111111" && header.recipient == "222222" && header.timestamp == "202004131702")
    }

    @Test(arguments: [
        "", "111111 to 222222 202004131702", "111111 to 222222 202004131702 text extra",
        "11111 to 222222 202004131702 text", "111111 to 2222222 202004131702 text", "111111 from 222222 202004131702 text",
        "111111 to 222222 202002301702 text", "111111 to 222222 2020041317 text", "111111 to 222222 202004131702 video 5",
        "111111 to 222222 202004131702 file", "111111 to 222222 202004131702 file -1", "111111 to 222222 202004131702 file 1 2",
        "111111 to 222222 202004131702 audio 12345678901234567890", "111111  to 222222 202004131702 text",
        "111111 to 222222 202004131702 text ", "111111 to 222222 addFriend",
    ])
    func malformedHeadersAreRejected(_ line: String) {
        #expect(MessageHeader(line: Array(line.utf8)) == nil, "\(line)")
    }

    @Test func aHeaderThatIsNotUTF8IsRejected() {
        #expect(MessageHeader(line: Array("111111 to 222222 202004131702 text".utf8) + [0xff]) == nil)
    }
}
