import Testing
@testable import ChatBenchmark

@Suite struct TextBenchmarkOptionsTests {
    /// Issue 5 asks for runs that last seconds: at the minimal relay's rate (over a million
    /// messages a second) a default run must still take two.
    @Test(arguments: [50, 1000])
    func aDefaultRunLastsSecondsEvenAtTheRelaysRate(_ pairs: Int) {
        let messages = TextBenchmark.Options.defaultMessagesPerSender(pairs: pairs) * pairs
        #expect(messages >= 2_000_000)
    }

    /// With very many pairs each sender still fills its window of 32 several times over.
    @Test func manyPairsStillSendSeveralWindowsEach() {
        #expect(TextBenchmark.Options.defaultMessagesPerSender(pairs: 1_000_000) >= 200)
    }
}
