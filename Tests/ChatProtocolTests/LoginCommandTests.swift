import ChatProtocol
import Testing

@Suite struct LoginCommandTests {
    private func parse(_ text: String) -> LoginCommand? { LoginCommand(line: Array(text.utf8)) }

    @Test func wellFormedCommands() {
        #expect(parse("signup 123456 abc_1") == .signUp(uid: "123456", password: "abc_1"))
        #expect(parse("signin 123456 abc_1") == .signIn(uid: "123456", password: "abc_1"))
        #expect(parse("offline") == .offline)
    }

    @Test(arguments: ["", "signup", "signup 123456", "signup 12345 pw", "signup 123456 p w", "signup  123456 pw",
                      "signup 123456 pw ", "SIGNUP 123456 pw", "signin 123456 pw!", "offline now", "hello",
                      "123456 to 222222 addFriend"])
    func everythingElseIsRefused(_ text: String) { #expect(parse(text) == nil) }

    @Test func invalidUTF8IsRefused() {
        #expect(LoginCommand(line: [0x73, 0x69, 0xff, 0xfe]) == nil)
    }
}
