import ChatMonitoring
import Testing

/// The admin socket's line protocol as a transcript of bytes in, outcomes out.
@Suite struct AdminRequestTests {
    private func outcome(_ text: String) -> AdminRequest.Outcome {
        var request = AdminRequest()
        return request.receive(Array(text.utf8))
    }

    @Test func theTwoCommandsWithOrWithoutCarriageReturnOrSpaces() {
        #expect(outcome("status\n") == .command(.status))
        #expect(outcome("reload\r\n") == .command(.reload))
        #expect(outcome(" status \n") == .command(.status))
    }

    @Test func aLineArrivingByteByByteIsReadOnceWhole() {
        var request = AdminRequest()
        for byte in Array("status".utf8) { #expect(request.receive([byte]) == .needMore) }
        #expect(request.receive([UInt8(ascii: "\n")]) == .command(.status))
    }

    @Test func aLastLineWithoutNewlineCountsAtEndOfInput() {
        var request = AdminRequest()
        #expect(request.receive(Array("reload".utf8)) == .needMore)
        #expect(request.endOfInput() == .command(.reload))
        var empty = AdminRequest()
        #expect(empty.endOfInput() == .refused("error: empty request (expected status or reload)"))
    }

    @Test func unknownRequestsAreRefusedWithOnlyPrintableBytesEchoed() {
        #expect(outcome("STATUS\n") == .refused("error: unknown request 'STATUS' (expected status or reload)"))
        #expect(outcome("\u{1b}[2Jx\n") == .refused("error: unknown request '?[2Jx' (expected status or reload)"))
        #expect(outcome("\n") == .refused("error: unknown request '' (expected status or reload)"))
    }

    @Test func aLineLongerThanTheLimitIsRefusedBeforeItsEnd() {
        var request = AdminRequest()
        #expect(request.receive([UInt8](repeating: UInt8(ascii: "a"), count: AdminRequest.maxLineBytes)) == .needMore)
        #expect(request.receive([UInt8(ascii: "a")]) == .refused("error: request longer than 256 bytes"))
    }
}
