import ChatProtocol
@testable import ChatClient
import Testing

/// What script mode counts as a failed command, and how the client spaces its reconnects.
@Suite struct CommandOutcomeTests {
    @Test func refusalsFailAndSuccessesDoNot() {
        #expect(CommandOutcome.isFailure(.wrongPassword, answering: .signIn(uid: "111111", wire: "x")))
        #expect(CommandOutcome.isFailure(.serviceUnavailable, answering: .send(peer: "111111")))
        #expect(CommandOutcome.isFailure(.uidNotExits, answering: .history(peer: "111111")))
        #expect(CommandOutcome.isFailure(nil, answering: .friends), "a line that is no reply at all")
        #expect(!CommandOutcome.isFailure(.signInSucceeded, answering: .signIn(uid: "111111", wire: "x")))
        #expect(!CommandOutcome.isFailure(.ok, answering: .send(peer: "111111")))
        #expect(!CommandOutcome.isFailure(.noHistoryYet, answering: .history(peer: "111111")))
    }

    /// A text to someone offline is stored; an offer to them is not made.
    @Test func targetOfflineFailsOnlyAnOffer() {
        #expect(!CommandOutcome.isFailure(.targetUserOffline, answering: .send(peer: "111111")))
        #expect(!CommandOutcome.isFailure(.targetUserOffline, answering: .uploadFinal))
        let offer = ChatClientSession.OutgoingTransfer(peer: "111111", path: "/f", name: "f", size: 1)
        #expect(CommandOutcome.isFailure(.targetUserOffline, answering: .p2pOffer(offer)))
    }
}
