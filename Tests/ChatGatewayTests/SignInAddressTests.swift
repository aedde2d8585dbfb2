import ChatBus
@testable import ChatGateway
import NIOCore
import Testing

/// What a sign-in carries to auth for its failures to be counted, and what a refusal reads as.
@Suite struct SignInAddressTests {
    @Test(arguments: [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("::1", "0:0:0:0::/64"),
        ("::ffff:198.51.100.4", "198.51.100.4"),
    ])
    func keyIsTheIPv4AddressOrTheIPv6Slash64(_ address: String, _ key: String) throws {
        #expect(SignInAddress.key(for: try SocketAddress(ipAddress: address, port: 40_000)) == key)
    }

    @Test func addressesOfOneIPv6NetworkShareAKeyAndOthersDoNot() throws {
        let first = SignInAddress.key(for: try SocketAddress(ipAddress: "2001:db8:1:2::5", port: 1))
        let sameNetwork = SignInAddress.key(for: try SocketAddress(ipAddress: "2001:db8:1:2:ffff::9", port: 2))
        let nextNetwork = SignInAddress.key(for: try SocketAddress(ipAddress: "2001:db8:1:3::5", port: 1))
        #expect(first == sameNetwork)
        #expect(first != nextNetwork)
    }

    @Test func signUpCarriesTheAddress() {
        var transcript = SessionTranscript()
        transcript.session = ClientSession(connectionId: 3, settings: ClientSession.Settings())
        transcript.session.connected(remoteAddress: "[2001:db8::5]:40000", signInAddress: "2001:db8:0:0::/64")
        _ = transcript.take()
        transcript.send("signup 111111 secret_1\n")
        #expect(transcript.takeRequests().map(\.message) == [.signUpFrom(uid: "111111", password: "secret_1", address: "2001:db8:0:0::/64")])
    }

    @Test func signInCarriesTheAddressAndAThrottledAnswerIsRefusedInTheLoginPhase() {
        var transcript = SessionTranscript()
        transcript.session = ClientSession(connectionId: 3, settings: ClientSession.Settings())
        transcript.session.connected(remoteAddress: "203.0.113.9:40000", signInAddress: "203.0.113.9")
        _ = transcript.take()
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
