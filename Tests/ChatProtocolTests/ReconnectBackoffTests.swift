import ChatProtocol
import Testing

@Suite struct ReconnectBackoffTests {
    @Test func reconnectsBackOffWithJitterUpToHalfAMinute() {
        var backoff = ReconnectBackoff()
        let delays = (0..<12).map { _ in backoff.next() }
        #expect((0.25...0.5).contains(delays[0]))
        #expect((0.5...1).contains(delays[1]))
        #expect((4...8).contains(delays[4]))
        #expect(delays.suffix(4).allSatisfy { (15...30).contains($0) }, "\(delays)")
    }
}
