@testable import ChatGateway
import Testing

/// The order of one partition's texts while it moves: what is sent, what waits, what follows.
@Suite struct PartitionOrderTests {
    @Test func inSteadyStateEveryTextGoesAtOnce() {
        var order = PartitionOrder<String>(partitions: 4)
        let first = order.admit("a", partition: 1, slot: 0), second = order.admit("b", partition: 1, slot: 0)
        #expect(first && second)
        let afterFirst = order.answered(partition: 1, resend: nil, slot: 0)
        let afterSecond = order.answered(partition: 1, resend: nil, slot: 0)
        #expect(afterFirst.isEmpty && afterSecond.isEmpty)
        let third = order.admit("c", partition: 1, slot: 0)
        #expect(third)
    }

    /// A and A2 are in flight when A is answered `partitionMoved`: the gateway learned the new
    /// map from it, so B would go straight to the new worker while A is still to be sent on.
    /// B waits for A, and both for A2's answer.
    @Test func aLaterTextNeverOvertakesOneBeingSentOn() {
        var order = PartitionOrder<String>(partitions: 4)
        let a = order.admit("A", partition: 2, slot: 0), a2 = order.admit("A2", partition: 2, slot: 0)
        #expect(a && a2)
        let afterA = order.answered(partition: 2, resend: "A", slot: 1)
        #expect(afterA.isEmpty, "A2 is still in flight to slot 0")
        let b = order.admit("B", partition: 2, slot: 1)
        #expect(!b, "B waits behind A")
        let afterA2 = order.answered(partition: 2, resend: "A2", slot: 1)
        #expect(afterA2 == ["A", "A2", "B"])
        // The three are in flight to slot 1 now: a later text for slot 1 goes at once.
        let c = order.admit("C", partition: 2, slot: 1)
        #expect(c)
    }

    @Test func otherPartitionsAreNotHeldUp() {
        var order = PartitionOrder<String>(partitions: 4)
        let a = order.admit("A", partition: 0, slot: 0)
        let sentOn = order.answered(partition: 0, resend: "A", slot: 1)
        #expect(a && sentOn == ["A"])
        let other = order.admit("other", partition: 1, slot: 0)
        #expect(other)
        let b = order.admit("B", partition: 0, slot: 0)
        #expect(!b, "partition 0's texts are in flight to slot 1")
        let afterA = order.answered(partition: 0, resend: nil, slot: 1)
        #expect(afterA == ["B"])
    }
}
