import ChatBus
@testable import ChatGateway
import Testing

/// What a sign-up or sign-in carries to auth for it to be counted by client address, and what
/// auth's refusals read as.
@Suite struct SessionAddressKeyTests {
    @Test func signUpCarriesTheAddress() {
        var transcript = SessionTranscript(remoteAddress: "[2001:db8::5]:40000", addressKey: "2001:db8:0:0::/64")
        transcript.send("signup 111111 secret_1\n")
        #expect(transcript.takeRequests().map(\.message) == [.signUpFrom(uid: "111111", password: "secret_1", address: "2001:db8:0:0::/64")])
    }

    @Test func aThrottledSignUpIsRefusedInTheLoginPhase() {
        var transcript = SessionTranscript(remoteAddress: "203.0.113.9:40000", addressKey: "203.0.113.9")
        transcript.send("signup 111111 secret_1\n")
        #expect(transcript.takeRequests().map(\.message) == [.signUpFrom(uid: "111111", password: "secret_1", address: "203.0.113.9")])

        transcript.answer(.signUp(0), .success(.signUpThrottled(retryAfterMilliseconds: 3_600_000)))
        #expect(transcript.takeWritten() == "Too many sign-ups, try again later\n")
        #expect(transcript.session.phase == .login)
        // The connection stays usable: a sign-in goes ahead.
        transcript.send("signin 222222 secret_2\n")
        #expect(transcript.takeRequests().map(\.message) == [.signInFrom(uid: "222222", password: "secret_2", address: "203.0.113.9")])
    }

    @Test func signInCarriesTheAddressAndAThrottledAnswerIsRefusedInTheLoginPhase() {
        var transcript = SessionTranscript(remoteAddress: "203.0.113.9:40000", addressKey: "203.0.113.9")
        transcript.send("signin 111111 secret_1\n")
        #expect(transcript.takeRequests().map(\.message) == [.signInFrom(uid: "111111", password: "secret_1", address: "203.0.113.9")])

        transcript.answer(.signIn(0, uid: "111111"), .success(.signInThrottled(retryAfterMilliseconds: 2_000)))
        #expect(transcript.takeWritten() == "Too many failed sign-ins, try again later\n")
        #expect(transcript.session.phase == .login)
        // The connection stays usable: a later sign-in is asked again.
        transcript.send("signin 111111 secret_1\n")
        #expect(transcript.takeRequests().count == 1)
    }
}
