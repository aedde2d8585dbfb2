@testable import ChatStorage
import Testing

/// What a storage worker does with the leases it reads: each worker, deciding alone, heads for
/// ⌊P/n⌋ or ⌈P/n⌉ partitions, and a restarted one takes its own back at once.
@Suite struct LeaseBalanceTests {
    /// `owners[p]`: who holds partition p ("" for nobody ever), all live unless in `expired`.
    private func leases(_ owners: [String], expired: Set<Int> = []) -> [PartitionLease] {
        owners.enumerated().map { partition, owner in
            PartitionLease(partition: partition, endpoint: owner.isEmpty ? "" : "tcp://\(owner)", holder: owner,
                           live: !owner.isEmpty && !expired.contains(partition))
        }
    }

    /// Neither takes nor lets go.
    private static let nothing = LeaseBalance(leases: [], liveWorkers: 1, holder: "", endpoint: "")

    private func balance(_ leases: [PartitionLease], workers: Int, me: String) -> LeaseBalance {
        LeaseBalance(leases: leases, liveWorkers: workers, holder: me, endpoint: "tcp://\(me)")
    }

    @Test func aLoneWorkerTakesEveryFreePartition() {
        let plan = balance(leases(Array(repeating: "", count: 8)), workers: 1, me: "a")
        #expect(plan.take.sorted() == Array(0..<8))
        #expect(plan.release.isEmpty)
    }

    @Test func twoNewWorkersEachTakeHalfAtMost() {
        let plan = balance(leases(Array(repeating: "", count: 8)), workers: 2, me: "a")
        #expect(plan.take.count == 4)
        #expect(Set(plan.take).count == 4)
    }

    @Test func aWorkerAddedMakesTheOthersLetGoOfTheirExcess() {
        // 8 partitions, a holds 5 and b 3; c has just come: shares of 3, 3 and 2.
        let table = leases(["a", "a", "a", "a", "a", "b", "b", "b"])
        let a = balance(table, workers: 3, me: "a")
        #expect(a.release == [3, 4], "a keeps 3, letting go of its highest partitions")
        #expect(a.take.isEmpty)
        #expect(balance(table, workers: 3, me: "b") == Self.nothing, "b holds ⌈8/3⌉ already, and nothing is free")
        #expect(balance(table, workers: 3, me: "c") == Self.nothing, "nothing is free for c yet")
        // Once a's two are let go (expired), c takes them, up to its ⌈8/3⌉.
        let after = leases(["a", "a", "a", "a", "a", "b", "b", "b"], expired: [3, 4])
        #expect(balance(after, workers: 3, me: "c").take.sorted() == [3, 4])
    }

    @Test func aWorkerBelowTheFloorGetsOneFromAWorkerAboveIt() {
        // 4 partitions, 3 workers: ⌊4/3⌋ = 1, ⌈4/3⌉ = 2; a and b hold 2 each, c none.
        let table = leases(["a", "a", "b", "b"])
        #expect(balance(table, workers: 3, me: "a").release == [1])
        #expect(balance(table, workers: 3, me: "b").release == [3])
        #expect(balance(table, workers: 3, me: "c") == Self.nothing)
        // Balanced (2, 1, 1): nobody moves.
        let balanced = leases(["a", "a", "b", "c"])
        for me in ["a", "b", "c"] { #expect(balance(balanced, workers: 3, me: me) == Self.nothing, "\(me)") }
    }

    @Test func moreWorkersThanPartitionsDoNotChurn() {
        let table = leases(["a", "b"])
        for me in ["a", "b", "c"] { #expect(balance(table, workers: 3, me: me) == Self.nothing, "\(me)") }
    }

    @Test func theLeasesOfAWorkerThatDiedAreTakenOverUpToTheShare() {
        // b died: its leases ran out. a, alone alive, takes them all.
        let table = leases(["a", "b", "a", "b", "a", "b"], expired: [1, 3, 5])
        #expect(balance(table, workers: 1, me: "a").take.sorted() == [1, 3, 5])
        // With a third worker alive (c, holding nothing), a takes only up to ⌈6/2⌉ = 3... it holds 3.
        #expect(balance(table, workers: 2, me: "a").take.isEmpty)
        #expect(balance(table, workers: 2, me: "c").take.sorted() == [1, 3, 5])
    }

    @Test func aRestartedWorkerTakesItsOwnBackAtOnce() {
        // The lease rows still name the old process of endpoint a, live: the new one ("a" at the
        // same endpoint, another holder) takes them back without waiting for them to run out.
        let table = [PartitionLease(partition: 0, endpoint: "tcp://a", holder: "old-a", live: true),
                     PartitionLease(partition: 1, endpoint: "tcp://b", holder: "b", live: true)]
        let plan = LeaseBalance(leases: table, liveWorkers: 2, holder: "new-a", endpoint: "tcp://a")
        #expect(plan.take == [0])
        #expect(LeaseBalance(leases: table, liveWorkers: 2, holder: "b", endpoint: "tcp://b") == Self.nothing)
    }

    @Test func aPartitionLetGoIsLeftToTheOthersForAWhileThenTakenBack() {
        // a let partition 1 go for b, which died before taking it: released rows name nobody.
        let table = [PartitionLease(partition: 0, endpoint: "tcp://a", holder: "a", live: true),
                     PartitionLease(partition: 1, endpoint: "tcp://a", holder: "", live: false)]
        let lately = LeaseBalance(leases: table, liveWorkers: 1, holder: "a", endpoint: "tcp://a", avoiding: [1])
        #expect(lately.take.isEmpty, "not taken back at once")
        let later = LeaseBalance(leases: table, liveWorkers: 1, holder: "a", endpoint: "tcp://a")
        #expect(later.take == [1], "taken back once nobody else did")
    }

    @Test func theMapNamesLiveHoldersAndSendsTheRestToTheWorkerHandingItOut() throws {
        // c's lease (partition 2) ran out, and partition 3 was never taken.
        let table = leases(["b", "a", "c", ""], expired: [2])
        let map = try #require(PartitionLeaseKeeper.map(of: table, epoch: 7, handedOutBy: "tcp://a"))
        #expect(map.epoch == 7)
        #expect(map.workers == ["tcp://a", "tcp://b"], "c, whose lease ran out, is not named")
        #expect(map.owners == [1, 0, 0, 0])
        let byB = try #require(PartitionLeaseKeeper.map(of: table, epoch: 7, handedOutBy: "tcp://b"))
        #expect(byB.owners == [1, 0, 1, 1])
        #expect(PartitionLeaseKeeper.map(of: leases(["", ""]), epoch: 1, handedOutBy: "") == nil)
    }
}
