import ChatClient
import Testing

@Suite struct CommandCompletionTests {
    private let uids: Set<String> = ["123456", "123999", "654321"]

    @Test func theFirstWordCompletesToCommands() {
        #expect(CommandCompletion.candidates(line: "/fr", word: "/fr", uids: uids) == ["/friend", "/friends"])
        #expect(CommandCompletion.candidates(line: "/wa", word: "/wa", uids: uids) == ["/wait", "/wait-p2p"])
        #expect(CommandCompletion.candidates(line: "", word: "", uids: uids).count == 17)
    }

    @Test func theFirstArgumentOfAUIDCommandCompletesToKnownUIDs() {
        #expect(CommandCompletion.candidates(line: "/to 123", word: "123", uids: uids) == ["123456", "123999"])
        #expect(CommandCompletion.candidates(line: "/history ", word: "", uids: uids) == ["123456", "123999", "654321"])
        #expect(CommandCompletion.candidates(line: "/p2p 6", word: "6", uids: uids) == ["654321"])
    }

    @Test func nothingElseCompletes() {
        #expect(CommandCompletion.candidates(line: "/to 123456 he", word: "he", uids: uids).isEmpty, "the text")
        #expect(CommandCompletion.candidates(line: "/signin 12", word: "12", uids: uids).isEmpty, "not a uid to talk to")
        #expect(CommandCompletion.candidates(line: "hello 12", word: "12", uids: uids).isEmpty)
    }

    @Test func linesWithAPasswordAreNeverKept() {
        #expect(!CommandCompletion.keepsInHistory("/signin 123456 secret"))
        #expect(!CommandCompletion.keepsInHistory("/signup 123456 secret"))
        #expect(CommandCompletion.keepsInHistory("/to 123456 my /signin is private"))
        #expect(CommandCompletion.keepsInHistory("hello"))
    }
}
