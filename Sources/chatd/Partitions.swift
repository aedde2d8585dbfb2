import ArgumentParser
import ChatBus
import ChatRuntime

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
}
