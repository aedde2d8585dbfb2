import ChatProtocol
@testable import ChatClient
import Foundation
import Testing

@Suite struct UserCommandTests {
    @Test func commandsParse() throws {
        #expect(try UserCommand.parse("/signup 123456 pass_1").get() == .signUp(uid: "123456", password: "pass_1"))
        #expect(try UserCommand.parse("/to 123456 hello there").get() == .send(peer: "123456", text: "hello there"))
        #expect(try UserCommand.parse("/to 123456").get() == .setPeer("123456"))
        #expect(try UserCommand.parse("just words").get() == .send(peer: nil, text: "just words"))
        #expect(try UserCommand.parse("/file 123456 /tmp/a b.txt").get() == .sendFile(peer: "123456", path: "/tmp/a b.txt"))
        #expect(try UserCommand.parse("/voice 123456 hi.ogg").get() == .sendVoice(peer: "123456", path: "hi.ogg"))
        #expect(try UserCommand.parse("/get 123456 my file (2).txt").get() == .get(peer: "123456", name: "my file (2).txt"))
        #expect(try UserCommand.parse("/quit").get() == .quit)
        #expect(try UserCommand.parse("/signout").get() == .signOut)
    }

    @Test func badInputIsCaughtBeforeSending() {
        #expect(throws: UserInputError.badUID("12345")) { try UserCommand.parse("/signin 12345 pw").get() }
        #expect(throws: UserInputError.badPassword) { try UserCommand.parse("/signin 123456 pass-word").get() }
        #expect(throws: UserInputError.usage("/to")) { try UserCommand.parse("/to").get() }
        #expect(throws: UserInputError.unknownCommand("/nope")) { try UserCommand.parse("/nope").get() }
        #expect(throws: UserInputError.empty) { try UserCommand.parse("").get() }
    }

    @Test func downloadsStayInTheirFolder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dl-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let downloads = DownloadsFolder(path: folder)
        #expect(try downloads.destination(for: "../../etc/passwd") == "\(folder)/.._.._etc_passwd")
        #expect(try downloads.destination(for: "..") == "\(folder)/download")
        #expect(try downloads.destination(for: "a\u{0}b") == "\(folder)/a_b")
        try #require(FileManager.default.createFile(atPath: "\(folder)/a.txt", contents: Data()))
        #expect(try downloads.destination(for: "a.txt") == "\(folder)/a (2).txt")
    }

    @Test func wirePasswordIsTheSHA256OfUidAndPassword() {
        #expect(WirePassword.derive(uid: "123456", password: "secret_1") == "23b9cc9abdbbe9d9646b643ed611723d258cd7efe70fa0690e3edc7b26791195")
    }
}

@Suite struct HistoryDisplayTests {
    @Test func recordsReadAsPeopleWriteThem() {
        let text = MessageHeader(sender: "111111", recipient: "222222", timestamp: "202004131702", kind: .text)
        let file = MessageHeader(sender: "222222", recipient: "111111", timestamp: "202004131703", kind: .file(size: 3))
        #expect(HistoryRecord(header: text, body: "hello").readable == "[2020-04-13 17:02] 111111 -> 222222: hello")
        #expect(HistoryRecord(header: file, body: "a b.txt").readable == "[2020-04-13 17:03] 222222 -> 111111: [file] a b.txt")
    }
}
