import ArgumentParser
import ChatBus
import ChatRuntime
import ChatStorage

/// The partition map of a data folder: shown, or changed by moving one partition to another
/// storage worker. The workers take a new map on reload (docs/operations.md, "Moving
/// partitions between running workers" and "Moving a partition to another machine").
struct Partitions: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the partition map in force, or write one that moves a partition to another storage worker.",
        discussion: "After --move, `chatd reload` (or SIGHUP to each storage worker reading this data folder) moves it live.")
    @OptionGroup var configuration: ConfigurationOptions
    @Option(help: "The partition to move (0 ..< storage.partitions).")
    var move: Int?
    @Option(help: "The storage worker to move it to, by its endpoint in the map.")
    var to: String?

    func validate() throws {
        guard (move == nil) == (to == nil) else { throw ValidationError("--move and --to go together") }
    }

    func run() throws {
        let resolved = try configuration.resolve()
        if resolved.storageLeases { return try showLeases(resolved) }
        let path = PartitionMapFile.path(inHistoryFolder: "\(resolved.dataDirectory)/history")
        let update = try PartitionMapFile.update(at: path, initial: {
            .initial(partitions: resolved.storagePartitions, workers: resolved.storageEndpoints)
        }) { inForce -> PartitionMap? in
            guard inForce.partitionCount == resolved.storagePartitions else {
                throw ValidationError("the map covers \(inForce.partitionCount) partitions but storage.partitions is \(resolved.storagePartitions)")
            }
            guard let move, let to else { return nil }
            if inForce.owners.indices.contains(move), inForce.workers[inForce.owner(ofPartition: move)] == to {
                throw ValidationError("partition \(move) is already \(to)'s")
            }
            do {
                return try inForce.moving(move, to: to)
            } catch {
                throw ValidationError("cannot move partition \(move): \(error)")
            }
        }
        let map = update.written ?? update.before
        if let move, update.written != nil {
            print("wrote \(path); reload the storage workers reading this data folder (`chatd reload`, or SIGHUP each) to move partition \(move)")
        }
        print("epoch \(map.epoch)")
        for (index, worker) in map.workers.enumerated() {
            print("\(worker): \(map.partitions(ownedBy: index).map(String.init).joined(separator: " "))")
        }
    }

    /// With PostgreSQL the workers hold partitions by leases: shown, never moved by hand.
    private func showLeases(_ resolved: ChatConfiguration) throws {
        guard move == nil else {
            throw ValidationError("with storage.backend = \"postgres\" the storage workers share the partitions out by leases: "
                + "start or stop workers instead of moving partitions")
        }
        let (leases, epoch) = try PartitionLeaseTable.read(url: resolved.storagePostgresURL, partitions: resolved.storagePartitions)
        print("epoch \(epoch) (leases in PostgreSQL)")
        let byWorker = Dictionary(grouping: leases.filter(\.live), by: \.endpoint)
        for worker in byWorker.keys.sorted() {
            print("\(worker): \(byWorker[worker]!.map { String($0.partition) }.joined(separator: " "))")
        }
        let unheld = leases.filter { !$0.live }.map { String($0.partition) }
        if !unheld.isEmpty { print("held by no live worker (taken over within seconds): \(unheld.joined(separator: " "))") }
    }
}
