import ChatBus
import ChatProtocol
@testable import ChatGateway
import Testing

/// `resume` and the ticket request at the gateway: what goes to auth, and which family of
/// tickets `offline` revokes.
@Suite struct ResumptionSessionTests {
    static let ticket = String(repeating: "0f", count: 16)
    static let family = "0123456789abcdef"

    @Test func aResumeGoesToAuthWithTheAddressAndTheSessionCarriesOnItsFamily() {
        var transcript = SessionTranscript(addressKey: "198.51.100.7")
        transcript.send("resume 111111 \(Self.ticket)\n")
        let resume = transcript.takeRequests()
        #expect(resume.map(\.message) == [.resumeFrom(uid: "111111", ticket: Self.ticket, address: "198.51.100.7")])
        #expect(resume.map(\.to) == [.auth])
        transcript.answer(resume[0].then, .success(.resumed(family: Self.family)))
        let attach = transcript.takeRequests()
        #expect(attach.map(\.to) == [.router])
        transcript.answer(attach[0].then, .success(.attached))
        #expect(transcript.takeWritten() == "signin successfully\n")

        // The next ticket stays in the resumed ticket's family; signing out revokes that family.
        transcript.send("111111 ticket\n")
        let issue = transcript.takeRequests()
        #expect(issue.map(\.message) == [.issueTicket(uid: "111111", family: Self.family)])
        let next = String(repeating: "ab", count: 16)
        transcript.answer(issue[0].then, .success(.ticket(next)))
        #expect(transcript.takeWritten() == "ticket \(next)\n")
        transcript.send("offline\n")
        #expect(transcript.take().contains(.send(.revokeTickets(uid: "111111", family: Self.family), to: .auth)))
    }

    @Test func aRefusedResumeIsAWrongPasswordAndTheClientMayTryThePassword() {
        var transcript = SessionTranscript()
        transcript.send("resume 111111 \(Self.ticket)\n")
        let resume = transcript.takeRequests()
        transcript.answer(resume[0].then, .success(.authOutcome(.wrongPassword)))
        #expect(transcript.takeWritten() == "Wrong Password\n")
        #expect(transcript.session.phase == .login)
        transcript.send("signin 111111 \(SessionTranscript.password)\n")
        #expect(transcript.takeRequests().map(\.message) == [.signIn(uid: "111111", password: SessionTranscript.password)])
    }

    /// After a password sign-in the first ticket asked for names a new family, and every later
    /// one of the session stays in it.
    @Test func aPasswordSignInStartsAFamilyAtItsFirstTicket() throws {
        var transcript = SessionTranscript.signedIn()
        transcript.send("111111 ticket\n111111 ticket\n")
        let families = transcript.takeRequests().compactMap { request -> String? in
            if case .issueTicket("111111", let family) = request.message { return family }
            return nil
        }
        #expect(families.count == 2)
        let family = try #require(families.first)
        #expect(Identifiers.isTicketFamily(family), "\(family)")
        #expect(families.allSatisfy { $0 == family })
        transcript.send("offline\n")
        #expect(transcript.take().contains(.send(.revokeTickets(uid: "111111", family: family), to: .auth)))
    }

    /// A session whose family was revoked (a copy of one of its tickets came back) gets none.
    @Test func aRevokedFamilyGetsPermissionDenied() {
        var transcript = SessionTranscript.signedIn()
        transcript.send("111111 ticket\n")
        let issue = transcript.takeRequests()
        transcript.answer(issue[0].then, .success(.authOutcome(.ticketFamilyRevoked)))
        #expect(transcript.takeWritten() == "Permission denied\n")
    }

    @Test func familiesOfTwoSessionsDiffer() {
        #expect(Set((0..<64).map { _ in ClientSession.newTicketFamily() }).count == 64)
    }
}
