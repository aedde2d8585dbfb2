import ChatBus
import ChatProtocol
@testable import ChatGateway
import NIOCore
import Testing

/// The per-user message rate as the session applies it: past the burst a message is held
/// back, with the lines behind it, until its token is due; none is lost or refused, and the
/// replies stay in command order.
@Suite struct SessionMessageRateTests {
    static let text = "111111 to 222222 202004131702 text"

    /// 10 messages a second after a burst of 3.
    static var slow: ClientSession.Settings {
        var settings = ClientSession.Settings()
        settings.messagesPerSecond = 10
        settings.messageBurst = 3
        return settings
    }

    static func storedSlots(_ actions: [SessionAction]) -> [ReplySequencer.Slot] {
        actions.compactMap { if case .storeText(_, _, _, let slot) = $0 { return slot } else { return nil } }
    }

    @Test func pastTheBurstAMessageWaitsForItsTokenAndTheLinesBehindItToo() {
        var transcript = SessionTranscript.signedIn(settings: Self.slow)
        let texts = (1...5).map { "\(Self.text)\nmessage \($0)\n" }.joined()
        transcript.send(texts + "111111 friends\n")
        var actions = transcript.take()
        #expect(Self.storedSlots(actions) == [1, 2, 3])
        #expect(actions.suffix(2) == [.setReading(false), .schedule(.messageRate, after: .milliseconds(100))])
        #expect(!actions.contains { if case .request = $0 { return true } else { return false } }, "friends was read early")

        // The timer fires on time: the fourth goes, the fifth waits, reading stays off.
        transcript.now = transcript.now + .milliseconds(100)
        transcript.session.messageRateRefilled(at: transcript.now)
        actions = transcript.take()
        #expect(Self.storedSlots(actions) == [4])
        #expect(!actions.contains(.setReading(true)))
        #expect(actions.last == .schedule(.messageRate, after: .milliseconds(100)))

        transcript.now = transcript.now + .milliseconds(100)
        transcript.session.messageRateRefilled(at: transcript.now)
        actions = transcript.take()
        #expect(Self.storedSlots(actions) == [5])
        #expect(actions.contains(.request(.listFriends(owner: "111111"), to: .auth, then: .listFriends(6))))
        #expect(actions.last == .setReading(true))

        // Every message stored once, and the replies in command order whatever order they come in.
        transcript.answer(.listFriends(6), .success(.friendList([])))
        transcript.answer(.friendsPresence(6, friends: []), .success(.presence([])))
        for slot: ReplySequencer.Slot in (1...5).reversed() { transcript.session.replyReady(slot: slot, .ok) }
        #expect(transcript.takeWritten() == String(repeating: "ok\n", count: 5) + "friends\n")
    }

    @Test func aTimerFiringEarlyWaitsForTheRest() {
        var transcript = SessionTranscript.signedIn(settings: Self.slow)
        transcript.send(String(repeating: "\(Self.text)\nhi\n", count: 4))
        _ = transcript.take()
        transcript.now = transcript.now + .milliseconds(60)
        transcript.session.messageRateRefilled(at: transcript.now)
        #expect(transcript.take() == [.schedule(.messageRate, after: .milliseconds(40))])
    }

    @Test func voiceFilesAndFriendRequestsCountToo() {
        var transcript = SessionTranscript.signedIn(settings: Self.slow)
        transcript.send("111111 to 222222 addFriend\n111111 to 333333 addFriend\n111111 to 444444 addFriend\n"
            + "111111 to 222222 202004131702 file 5\nnotes.txt\n")
        let actions = transcript.take()
        #expect(actions.filter { if case .request(.addFriend, _, _) = $0 { return true } else { return false } }.count == 3)
        #expect(!actions.contains { if case .request(.userExists, _, _) = $0 { return true } else { return false } },
                "the file went past the rate")
        #expect(actions.last == .schedule(.messageRate, after: .milliseconds(100)))
        transcript.now = transcript.now + .milliseconds(100)
        transcript.session.messageRateRefilled(at: transcript.now)
        #expect(transcript.takeRequests().map(\.message) == [.userExists(uid: "222222")])
    }

    @Test func otherCommandsAreNotCounted() {
        var transcript = SessionTranscript.signedIn(settings: Self.slow)
        transcript.send(String(repeating: "111111 friends\n", count: 10) + String(repeating: "\(Self.text)\nhi\n", count: 3))
        let actions = transcript.take()
        #expect(actions.filter { if case .request(.listFriends, _, _) = $0 { return true } else { return false } }.count == 10)
        #expect(Self.storedSlots(actions).count == 3)
        #expect(!actions.contains(.setReading(false)))
    }

    @Test func noLimitNeverHoldsAnything() {
        var settings = ClientSession.Settings()
        settings.messagesPerSecond = 0
        settings.maxOutstandingReplies = 10_000
        settings.maxBufferedInput = 1 << 20
        var transcript = SessionTranscript.signedIn(settings: settings)
        transcript.send(String(repeating: "\(Self.text)\nhi\n", count: 5_000))
        let actions = transcript.take()
        #expect(Self.storedSlots(actions).count == 5_000)
        #expect(!actions.contains(.setReading(false)))
    }

    @Test func aHeldMessageDoesNotCountAsTheClientLeavingALineHalfSent() {
        var transcript = SessionTranscript.signedIn(settings: Self.slow)
        transcript.send(String(repeating: "\(Self.text)\nhi\n", count: 4) + "111111 fri")
        let armed = transcript.take()
        #expect(armed.contains(.schedule(.partialLine(generation: 0), after: .seconds(60))))
        transcript.session.timerFired(.partialLine(generation: 0))
        #expect(transcript.take() == [.schedule(.partialLine(generation: 0), after: .seconds(60))])
        // Once nothing is held, a line left half-sent closes the connection as before.
        transcript.now = transcript.now + .seconds(1)
        transcript.session.messageRateRefilled(at: transcript.now)
        _ = transcript.take()
        transcript.session.timerFired(.partialLine(generation: 0))
        #expect(transcript.take().closeReason == .partialLineTimeout)
    }

    @Test func aHeldMessageIsDroppedWhenTheClientLeaves() {
        var transcript = SessionTranscript.signedIn(settings: Self.slow)
        transcript.send(String(repeating: "\(Self.text)\nhi\n", count: 4))
        _ = transcript.take()
        transcript.session.disconnected()
        _ = transcript.take()
        transcript.now = transcript.now + .seconds(1)
        transcript.session.messageRateRefilled(at: transcript.now)
        #expect(transcript.take().isEmpty)
    }
}
