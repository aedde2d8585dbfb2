@testable import ChatBus
import Testing

@Suite struct PartitioningTests {
    @Test func pairOrderDoesNotMatter() {
        #expect(PairKey("222222", "111111") == PairKey("111111", "222222"))
        #expect(PairKey("222222", "111111").description == "111111-222222")
    }

    /// These values are what every process on every machine computes: FNV-1a is fixed, not seeded.
    @Test func partitionsAreStableAcrossProcesses() {
        #expect(Partitioning.fnv1a(Array("".utf8)) == 0xcbf2_9ce4_8422_2325)
        #expect(Partitioning.fnv1a(Array("a".utf8)) == 0xaf63_dc4c_8601_ec8c)
        // Expected values computed independently (Python) from the same definition.
        #expect(Partitioning.mix(Partitioning.fnv1a(Array("111111-222222".utf8))) == 0xa54d_40c5_314c_7ef4)
        let partitioning = Partitioning(partitionCount: 16)
        #expect(partitioning.partition(of: PairKey("111111", "222222")) == 4)
        #expect(partitioning.partition(of: PairKey("500001", "500000")) == 10)
        #expect(partitioning.partition(of: PairKey("500002", "500003")) == 7)
    }

    @Test func workersSplitPartitionsWithoutOverlap() {
        for workers in 1...5 {
            let map = PartitionMap.initial(partitions: 16, workers: (0..<workers).map { "tcp://w\($0)" })
            let owned = (0..<workers).flatMap { map.partitions(ownedBy: $0) }
            #expect(owned.sorted() == Array(0..<16))
            for partition in 0..<16 { #expect(map.partitions(ownedBy: map.owner(ofPartition: partition)).contains(partition)) }
        }
    }

    @Test func changingWorkersKeepsAPairInItsPartition() {
        let pair = PairKey("123456", "654321")
        let partitions = (1...6).map { PartitionMap.initial(partitions: 16, workers: (0..<$0).map { "tcp://w\($0)" }).partitioning.partition(of: pair) }
        #expect(Set(partitions).count == 1)
    }

    /// Neighbouring uids (as a benchmark or a batch sign-up makes) must not crowd one worker.
    @Test func neighbouringPairsSpreadOverWorkers() {
        let map = PartitionMap.initial(partitions: 16, workers: ["tcp://a", "tcp://b"])
        var onWorkerZero = 0
        for index in 0..<100 {
            let sender = String(500_000 + 2 * index), receiver = String(500_001 + 2 * index)
            if map.owner(of: PairKey(sender, receiver)) == 0 { onWorkerZero += 1 }
        }
        #expect((30...70).contains(onWorkerZero))
    }

    @Test func pairsSpreadOverPartitions() {
        let partitioning = Partitioning(partitionCount: 16)
        var counts = [Int](repeating: 0, count: 16)
        for low in 0..<100 {
            for high in 100..<140 { counts[partitioning.partition(of: PairKey(String(format: "%06d", low), String(format: "%06d", high)))] += 1 }
        }
        // 4000 pairs over 16 partitions: 250 each on average; none starved or flooded.
        #expect(counts.allSatisfy { (150...350).contains($0) }, "\(counts)")
    }
}
