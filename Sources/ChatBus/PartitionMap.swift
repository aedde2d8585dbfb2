/// Which storage worker owns each partition, and how new that knowledge is.
///
/// `owners[p]` indexes `workers` (storage endpoints, in worker order). The epoch grows by one
/// with every change, so of two maps the newer wins without comparing contents: gateways
/// route by the newest they know, and a worker asked about a partition it does not own
/// answers with its own map (`BusMessage.partitionMoved`).
///
/// Every process started from one config computes the same `initial` map, so a system needs
/// no exchange to agree until the first change.
public struct PartitionMap: Equatable, Sendable {
    public let epoch: UInt64
    public let workers: [String]
    public let owners: [Int]
    /// The hash into partitions, kept with the map so a lookup is two array reads.
    public let partitioning: Partitioning

    /// Bounds a map from outside (the bus, a file) must keep; no config comes near them.
    public enum Limits {
        /// As `storage.partitions` allows.
        public static let partitions = 4096
        public static let workers = 1024
        public static let endpointBytes = 256
    }

    /// Why a map cannot be used, carrying the offending value.
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// A map checked against `Limits`: every owner names a worker, no endpoint twice, no
    /// control character in one (C strings end at a NUL: two names, one address), and an epoch
    /// with a next one (`rebalanced` adds one).
    public init(epoch: UInt64, workers: [String], owners: [Int]) throws(Invalid) {
        guard epoch < .max else { throw Invalid(description: "epoch \(epoch)") }
        guard (1...Limits.partitions).contains(owners.count) else { throw Invalid(description: "\(owners.count) partitions") }
        guard (1...Limits.workers).contains(workers.count) else { throw Invalid(description: "\(workers.count) workers") }
        if let long = workers.first(where: { $0.utf8.count > Limits.endpointBytes }) {
            throw Invalid(description: "endpoint of \(long.utf8.count) bytes")
        }
        guard Set(workers).count == workers.count else { throw Invalid(description: "an endpoint named twice") }
        guard !workers.contains(where: { $0.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } }) else {
            throw Invalid(description: "a control character in an endpoint")
        }
        if let stray = owners.first(where: { !workers.indices.contains($0) }) {
            throw Invalid(description: "owner \(stray) of \(workers.count) workers")
        }
        self.init(checkedEpoch: epoch, workers: workers, owners: owners)
    }

    private init(checkedEpoch epoch: UInt64, workers: [String], owners: [Int]) {
        self.epoch = epoch
        self.workers = workers
        self.owners = owners
        partitioning = Partitioning(partitionCount: owners.count)
    }

    /// The assignment every process derives from its config alone: partition `p` to worker
    /// `p % workers`, epoch 1.
    public static func initial(partitions: Int, workers: [String]) -> PartitionMap {
        precondition(partitions > 0 && !workers.isEmpty)
        return PartitionMap(checkedEpoch: 1, workers: workers, owners: (0..<partitions).map { $0 % workers.count })
    }

    public var partitionCount: Int { owners.count }

    /// The index in `workers` of the partition's owner.
    public func owner(ofPartition partition: Int) -> Int { owners[partition] }

    public func owner(of pair: PairKey) -> Int { owners[partitioning.partition(of: pair)] }

    public func partitions(ownedBy worker: Int) -> [Int] {
        owners.indices.filter { owners[$0] == worker }
    }

    /// The map with `partition` owned by the worker at `endpoint` (one of `workers`), one
    /// epoch on: an operator's move (`chatd partitions --move`).
    public func moving(_ partition: Int, to endpoint: String) throws(Invalid) -> PartitionMap {
        guard owners.indices.contains(partition) else {
            throw Invalid(description: "partition \(partition) of \(owners.count)")
        }
        guard let worker = workers.firstIndex(of: endpoint) else {
            throw Invalid(description: "\(endpoint) is not a storage worker of the map (\(workers.joined(separator: ", ")))")
        }
        var moved = owners
        moved[partition] = worker
        return try PartitionMap(epoch: epoch + 1, workers: workers, owners: moved)
    }

    /// The map for `newWorkers` (non-empty, no endpoint twice), one epoch on. Each worker ends
    /// with ⌊P/n⌋ or ⌈P/n⌉ partitions; as few partitions as that allows change owner (a move
    /// costs a hand-over), so a partition stays where it is while its owner is still listed and
    /// not over its share. Deterministic: every process computing it gets the same map.
    public func rebalanced(to newWorkers: [String]) -> PartitionMap {
        precondition(!newWorkers.isEmpty && Set(newWorkers).count == newWorkers.count)
        let newIndex = Dictionary(uniqueKeysWithValues: newWorkers.enumerated().map { ($1, $0) })
        // Old owner index -> new index, nil for a worker that left.
        let carried = workers.map { newIndex[$0] }
        var holding = [Int](repeating: 0, count: newWorkers.count)
        for owner in owners { if let kept = carried[owner] { holding[kept] += 1 } }
        // The ⌈P/n⌉ shares go to the workers holding most already (lower index first on a tie):
        // that keeps the most partitions in place.
        let (share, larger) = owners.count.quotientAndRemainder(dividingBy: newWorkers.count)
        var quota = [Int](repeating: share, count: newWorkers.count)
        let byHolding = newWorkers.indices.sorted { holding[$0] != holding[$1] ? holding[$0] > holding[$1] : $0 < $1 }
        for worker in byHolding.prefix(larger) { quota[worker] += 1 }

        var newOwners = [Int](repeating: -1, count: owners.count)
        var assigned = [Int](repeating: 0, count: newWorkers.count)
        var homeless: [Int] = []
        for (partition, owner) in owners.enumerated() {
            if let kept = carried[owner], assigned[kept] < quota[kept] {
                newOwners[partition] = kept
                assigned[kept] += 1
            } else {
                homeless.append(partition)
            }
        }
        var taker = 0
        for partition in homeless {
            while assigned[taker] == quota[taker] { taker += 1 }
            newOwners[partition] = taker
            assigned[taker] += 1
        }
        return PartitionMap(checkedEpoch: epoch + 1, workers: newWorkers, owners: newOwners)
    }
}
