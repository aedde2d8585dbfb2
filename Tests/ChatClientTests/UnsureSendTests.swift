@testable import ChatClient
import Testing

@Suite struct UnsureSendTests {
    @Test func theNoticeSaysToCheckTheHistoryBeforeResending() {
        #expect(UnsureSend.notice(peer: "222222")
            == "Service unavailable: the text may have been stored all the same; check /history 222222 before sending it again")
    }

    @Test func aPeerFromTheUserIsPrintedEscaped() {
        #expect(!UnsureSend.notice(peer: "22\u{1B}[2J").contains("\u{1B}"))
    }
}
