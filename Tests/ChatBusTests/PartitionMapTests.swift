@testable import ChatBus
import Testing

@Suite struct PartitionMapTests {
    static let endpoints = (0..<8).map { "tcp://10.0.0.\($0):7910" }

    private func counts(_ map: PartitionMap) -> [Int] {
        map.workers.indices.map { map.partitions(ownedBy: $0).count }
    }

    /// Partitions whose owner's endpoint differs between the two maps.
    private func moved(from old: PartitionMap, to new: PartitionMap) -> Int {
        zip(old.owners, new.owners).filter { old.workers[$0] != new.workers[$1] }.count
    }

    @Test func theInitialMapIsTodaysAssignment() {
        let map = PartitionMap.initial(partitions: 16, workers: Array(Self.endpoints.prefix(3)))
        #expect(map.epoch == 1)
        #expect(map.owners == (0..<16).map { $0 % 3 })
        #expect(map.partitions(ownedBy: 2) == [2, 5, 8, 11, 14])
        let pair = PairKey("111111", "222222")
        #expect(map.owner(of: pair) == Partitioning(partitionCount: 16).partition(of: pair) % 3)
    }

    @Test func everyWorkerEndsWithItsShare() {
        for before in 1...6 {
            for after in 1...8 {
                for partitions in [1, 7, 16, 64] {
                    let map = PartitionMap.initial(partitions: partitions, workers: Array(Self.endpoints.prefix(before)))
                        .rebalanced(to: Array(Self.endpoints.shuffled().prefix(after)))
                    let floor = partitions / after
                    #expect(counts(map).allSatisfy { $0 == floor || $0 == floor + 1 }, "\(before) -> \(after): \(counts(map))")
                    #expect(counts(map).reduce(0, +) == partitions)
                    #expect(map.epoch == 2)
                }
            }
        }
    }

    /// An operator's move: one partition changes owner, one epoch on; a partition or worker
    /// the map does not have is refused.
    @Test func movingOnePartitionChangesOnlyItsOwner() throws {
        let two = PartitionMap.initial(partitions: 16, workers: Array(Self.endpoints.prefix(2)))
        let moved = try two.moving(4, to: Self.endpoints[1])
        #expect(moved.epoch == 2)
        #expect(moved.workers == two.workers)
        #expect(moved.owners.indices.filter { moved.owners[$0] != two.owners[$0] } == [4])
        #expect(moved.owner(ofPartition: 4) == 1)
        #expect(throws: PartitionMap.Invalid.self) { try two.moving(16, to: Self.endpoints[1]) }
        #expect(throws: PartitionMap.Invalid.self) { try two.moving(-1, to: Self.endpoints[1]) }
        #expect(throws: PartitionMap.Invalid.self) { try two.moving(4, to: Self.endpoints[2]) }
    }

    @Test func addingAWorkerMovesOnlyItsShare() {
        let two = PartitionMap.initial(partitions: 16, workers: Array(Self.endpoints.prefix(2)))
        let three = two.rebalanced(to: Array(Self.endpoints.prefix(3)))
        // The third worker's 5 (of 16) come from the two; nothing else changes hands.
        #expect(moved(from: two, to: three) == 5)
        #expect(three.partitions(ownedBy: 2).count == 5)
        let four = three.rebalanced(to: Array(Self.endpoints.prefix(4)))
        #expect(moved(from: three, to: four) == 4)
    }

    @Test func removingAWorkerMovesOnlyWhatItHeld() {
        let three = PartitionMap.initial(partitions: 16, workers: Array(Self.endpoints.prefix(3)))
        let gone = Self.endpoints[1]
        let two = three.rebalanced(to: [Self.endpoints[0], Self.endpoints[2]])
        #expect(!two.workers.contains(gone))
        #expect(moved(from: three, to: two) == three.partitions(ownedBy: 1).count)
        #expect(counts(two) == [8, 8])
    }

    @Test func aWorkerAddedThenRemovedLeavesTheOthersTheirShares() {
        let two = PartitionMap.initial(partitions: 16, workers: Array(Self.endpoints.prefix(2)))
        let three = two.rebalanced(to: Array(Self.endpoints.prefix(3)))
        let back = three.rebalanced(to: Array(Self.endpoints.prefix(2)))
        #expect(back.epoch == 3)
        #expect(counts(back) == [8, 8])
        // Only the third worker's partitions move again; the two kept theirs throughout.
        #expect(moved(from: three, to: back) == 5)
        #expect(back.partitions(ownedBy: 0).count == 8)
    }

    @Test func reorderingTheListMovesNothing() {
        let three = PartitionMap.initial(partitions: 16, workers: Array(Self.endpoints.prefix(3)))
        let reordered = three.rebalanced(to: Array(Self.endpoints.prefix(3).reversed()))
        #expect(moved(from: three, to: reordered) == 0)
    }

    @Test func rebalancingIsDeterministic() {
        let start = PartitionMap.initial(partitions: 64, workers: Array(Self.endpoints.prefix(3)))
        let lists = [[0, 1, 2, 3, 4], [4, 2], [5, 6, 7, 0], [7]].map { $0.map { Self.endpoints[$0] } }
        let once = lists.reduce(start) { $0.rebalanced(to: $1) }
        let again = lists.reduce(start) { $0.rebalanced(to: $1) }
        #expect(once == again)
        #expect(once.epoch == 5)
        #expect(once.owners == [Int](repeating: 0, count: 64))
    }

    @Test func aMapFromOutsideIsChecked() throws {
        let endpoint = Self.endpoints[0]
        #expect(throws: PartitionMap.Invalid.self) { try PartitionMap(epoch: 1, workers: [endpoint], owners: []) }
        #expect(throws: PartitionMap.Invalid.self) { try PartitionMap(epoch: 1, workers: [], owners: [0]) }
        #expect(throws: PartitionMap.Invalid.self) { try PartitionMap(epoch: 1, workers: [endpoint], owners: [0, 1]) }
        #expect(throws: PartitionMap.Invalid.self) { try PartitionMap(epoch: 1, workers: [endpoint], owners: [-1]) }
        #expect(throws: PartitionMap.Invalid.self) { try PartitionMap(epoch: 1, workers: [endpoint, endpoint], owners: [0]) }
        #expect(throws: PartitionMap.Invalid.self) { try PartitionMap(epoch: 1, workers: [String(repeating: "a", count: 257)], owners: [0]) }
        #expect(throws: PartitionMap.Invalid.self) { try PartitionMap(epoch: 1, workers: [endpoint], owners: [Int](repeating: 0, count: 4097)) }
        let many = (0..<1025).map { "tcp://w\($0)" }
        #expect(throws: PartitionMap.Invalid.self) { try PartitionMap(epoch: 1, workers: many, owners: [0]) }
        let good = try PartitionMap(epoch: 9, workers: Array(many.prefix(1024)), owners: [1023, 0, 5])
        #expect(good.owner(ofPartition: 0) == 1023)
    }
}

extension PartitionMapTests {
    /// A map from outside must leave room for the next epoch, and name endpoints a C string
    /// holds whole.
    @Test func refusesTheLastEpochAndControlCharactersInEndpoints() {
        #expect(throws: PartitionMap.Invalid.self) { try PartitionMap(epoch: .max, workers: ["tcp://a:1"], owners: [0]) }
        #expect(throws: PartitionMap.Invalid.self) { try PartitionMap(epoch: 2, workers: ["tcp://a:1\u{0}x"], owners: [0]) }
        #expect(throws: PartitionMap.Invalid.self) { try PartitionMap(epoch: 2, workers: ["tcp://a:1\n"], owners: [0]) }
        #expect((try? PartitionMap(epoch: .max - 1, workers: ["tcp://a:1"], owners: [0])) != nil)
    }
}
