import ChatProtocol
import Testing

/// The session-resumption extensions: `resume <uid> <ticket>` before signing in, `<uid> ticket`
/// after, and the `ticket <hex>` reply; nothing else changes for the contract's commands.
@Suite struct ResumptionCommandTests {
    static let ticket = "0123456789abcdef0123456789abcdef"

    @Test func aResumeWithAWellFormedTicketIsACommand() {
        #expect(LoginCommand(line: Array("resume 123456 \(Self.ticket)".utf8)) == .resume(uid: "123456", ticket: Self.ticket))
    }

    @Test(arguments: ["resume 123456", "resume 123456 \(ticket) x", "resume 12345 \(ticket)",
                      "resume 123456 0123456789ABCDEF0123456789ABCDEF", "resume 123456 0123456789abcdef",
                      "resume 123456 \(ticket)0", "resume 123456 g123456789abcdef0123456789abcdef"])
    func aMalformedResumeIsAWrongSignCommand(_ line: String) {
        #expect(LoginCommand(line: Array(line.utf8)) == nil)
    }

    @Test func aTicketIsAskedForOnlyForOneself() {
        let parser = SessionCommandParser(uid: "123456")
        #expect(parser.parse(Array("123456 ticket".utf8)) == .command(.resumeTicket))
        #expect(parser.parse(Array("654321 ticket".utf8)) == .refused(.permissionDenied))
        #expect(parser.parse(Array("123456 ticket please".utf8)) == .refused(.wrongInteractCommand))
    }

    @Test func theTicketReplyRoundTrips() {
        let reply = ServerReply.resumeTicket(Self.ticket)
        #expect(reply.text == "ticket \(Self.ticket)")
        #expect(ServerReply(text: reply.text) == reply)
        #expect(ServerReply(text: "ticket 1234") == nil)
    }
}
