import ChatProtocol
import Testing

@Suite struct ReplySequencerTests {
    @Test func repliesLeaveInCommandOrder() {
        var sequencer = ReplySequencer()
        let first = sequencer.reserve(), second = sequencer.reserve(), third = sequencer.reserve()
        #expect(sequencer.fill(third, with: [3]) == [])
        #expect(sequencer.fill(second, with: [2]) == [])
        #expect(!sequencer.isIdle)
        #expect(sequencer.fill(first, with: [1]) == [1, 2, 3])
        #expect(sequencer.isIdle)
    }

    @Test func aSlotIsFilledOnce() {
        var sequencer = ReplySequencer()
        let slot = sequencer.reserve()
        #expect(sequencer.fill(slot, with: [1]) == [1])
        #expect(sequencer.fill(slot, with: [9]) == [])
        #expect(sequencer.fill(42, with: [9]) == [])
    }
}
