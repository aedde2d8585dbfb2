import ChatBus
import ChatRuntime
import Logging
import Synchronization

/// The storage workers the supervisor runs, and the partition map that goes with them: when a
/// reload adds or removes workers (`storage.endpoints`, at its end), a new map is computed from
/// the one in force (`rebalanced`: balanced, as few partitions moved as that allows) and
/// written to the data folder before anyone is told. With leases in PostgreSQL there is no
/// map to write: starting or stopping workers is all it takes.
final class StorageLayout: Sendable {
    private let endpoints: Mutex<[String]>

    init(endpoints: [String]) {
        self.endpoints = Mutex(endpoints)
    }

    /// Writes the map for `configuration`'s workers if they are not the ones run now; true when
    /// the workers changed. Throws, changing nothing, when the map cannot be written.
    func follow(_ configuration: ChatConfiguration, logger: Logger) throws -> Bool {
        try endpoints.withLock { current in
            guard current != configuration.storageEndpoints else { return false }
            if configuration.storageLeases {
                // The workers share the partitions out among themselves by their leases.
                logger.notice("storage workers changed; they share the partitions out by their leases", metadata: [
                    "storage.workers": "\(configuration.storageEndpoints.count)"])
                current = configuration.storageEndpoints
                return true
            }
            let path = PartitionMapFile.path(inHistoryFolder: "\(configuration.dataDirectory)/history")
            let update = try PartitionMapFile.update(at: path, initial: { .initial(partitions: configuration.storagePartitions, workers: current) }) {
                $0.rebalanced(to: configuration.storageEndpoints)
            }
            let (inForce, next) = (update.before, update.written!)
            let moved = next.owners.indices.filter { next.workers[next.owners[$0]] != inForce.workers[inForce.owners[$0]] }
            logger.notice("storage workers changed; partitions move by a new map", metadata: [
                "storage.workers": "\(configuration.storageEndpoints.count)", "storage.map_epoch": "\(next.epoch)",
                "storage.moved": "\(moved)",
            ])
            current = configuration.storageEndpoints
            return true
        }
    }
}
