import ChatProtocol
import Testing

@Suite struct SessionCommandParserTests {
    let parser = SessionCommandParser(uid: "111111")
    private func parse(_ text: String) -> SessionLine { parser.parse(Array(text.utf8)) }

    @Test func textHeaderKeepsItsExactLine() {
        let line = "111111 to 222222 202004131702 text"
        guard case .command(.message(let header)) = parse(line) else { Issue.record("not a message"); return }
        #expect(header.recipient == "222222")
        #expect(header.timestamp == "202004131702")
        #expect(header.kind == .text)
        #expect(header.line == Array(line.utf8))
    }

    @Test func audioAndFileCarryTheirSize() {
        guard case .command(.message(let audio)) = parse("111111 to 222222 202004131702 audio 1024") else {
            Issue.record("not a message"); return
        }
        #expect(audio.kind == .audio(size: 1024))
        guard case .command(.message(let file)) = parse("111111 to 222222 202004131702 file 0") else {
            Issue.record("not a message"); return
        }
        #expect(file.kind == .file(size: 0))
    }

    @Test func otherCommands() {
        #expect(parse("111111 to 222222 addFriend") == .command(.addFriend(peer: "222222")))
        #expect(parse("111111 friends") == .command(.friends))
        #expect(parse("offline") == .command(.offline))
        #expect(parse("111111 history 222222 all") == .command(.historyAll(peer: "222222")))
        #expect(parse("111111 history 222222 filename my file (2).txt") == .command(.historyFile(peer: "222222", name: "my file (2).txt")))
    }

    @Test func permissionDeniedComesFirst() {
        #expect(parse("222222 friends") == .refused(.permissionDenied))
        #expect(parse("222222 to 333333 addFriend") == .refused(.permissionDenied))
        #expect(parse("222222 history 111111 all") == .refused(.permissionDenied))
        // Even with a bad timestamp, the spoofed sender is what is reported; the content line still belongs to it.
        #expect(parse("222222 to 111111 2020 text") == .refusedTwoLine(.permissionDenied))
    }

    @Test func malformedTwoLineCommandsStillOwnTheirSecondLine() {
        #expect(parse("111111 to 222222 202013131702 text") == .refusedTwoLine(.wrongInteractCommand))
        #expect(parse("111111 to 22222 202004131702 text") == .refusedTwoLine(.wrongInteractCommand))
        #expect(parse("111111 to 222222 202004131702 text extra") == .refusedTwoLine(.wrongInteractCommand))
        #expect(parse("111111 to 222222 202004131702 file") == .refusedTwoLine(.wrongInteractCommand))
        #expect(parse("111111 to 222222 202004131702 file -5") == .refusedTwoLine(.wrongInteractCommand))
        #expect(parse("111111 to 222222 202004131702 audio 12345678901234567890") == .refusedTwoLine(.wrongInteractCommand))
    }

    @Test(arguments: ["", " ", "hello", "111111", "111111 to 111111 addFriend", "111111 to 22222 addFriend",
                      "111111 friends now", "111111 history 222222", "111111 history 222222 some",
                      "111111 history 22222 all", "111111 history 222222 filename", "111111 history 222222 filename ",
                      "111111 to 222222", "signin 111111 pw"])
    func malformedOneLineCommands(_ text: String) {
        #expect(parse(text) == .refused(.wrongInteractCommand))
    }

    @Test func invalidUTF8() {
        #expect(parser.parse([0x31, 0x31, 0xc3, 0x28]) == .refused(.wrongInteractCommand))
        // Still a two-line command: its content line must not be taken for a command.
        #expect(parser.parse(Array("111111 to 222222 ".utf8) + [0xff] + Array(" text".utf8)) == .refusedTwoLine(.wrongInteractCommand))
        #expect(parser.parse(Array("333333 to 222222 ".utf8) + [0xff] + Array(" file 5".utf8)) == .refusedTwoLine(.permissionDenied))
    }

    /// Random bytes and random word soups must never crash the parser.
    @Test func randomInputNeverCrashes() {
        var generator = SystemRandomNumberGenerator()
        let words = ["111111", "222222", "to", "text", "file", "audio", "history", "all", "filename", "friends",
                     "addFriend", "202004131702", "0", "99", " ", "", "\u{0}", "é"]
        for _ in 0..<5_000 {
            let count = Int.random(in: 0...8, using: &generator)
            let soup = (0..<count).map { _ in words.randomElement(using: &generator)! }.joined(separator: " ")
            _ = parser.parse(Array(soup.utf8))
            let bytes = (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = parser.parse(bytes)
            _ = LoginCommand(line: bytes)
        }
    }
}

@Suite struct TextHeaderFastPathTests {
    let parser = SessionCommandParser(uid: "111111")

    /// The byte-level fast path must agree with the general parser on every near miss.
    @Test func fastPathAgreesWithTheGeneralRules() {
        let good = "111111 to 222222 202004131702 text"
        guard case .command(.message(let header)) = parser.parse(Array(good.utf8)) else { Issue.record("not a header"); return }
        #expect(header.recipient == "222222" && header.timestamp == "202004131702" && header.kind == .text)
        #expect(parser.parse(Array("111111 to 222222 202002301702 text".utf8)) == .refusedTwoLine(.wrongInteractCommand))
        #expect(parser.parse(Array("111112 to 222222 202004131702 text".utf8)) == .refusedTwoLine(.permissionDenied))
        #expect(parser.parse(Array("111111 to 22222x 202004131702 text".utf8)) == .refusedTwoLine(.wrongInteractCommand))
        // Not text, audio or file: not a two-line command at all.
        #expect(parser.parse(Array("111111 to 222222 202004131702 texts".utf8)) == .refused(.wrongInteractCommand))
    }

    @Test func utf8Check() {
        #expect(Identifiers.isValidUTF8(Array("plain".utf8)))
        #expect(Identifiers.isValidUTF8(Array("ünï 😀".utf8)))
        #expect(!Identifiers.isValidUTF8([0x61, 0xc3]))
        #expect(!Identifiers.isValidUTF8([0xed, 0xa0, 0x80]))
    }
}
