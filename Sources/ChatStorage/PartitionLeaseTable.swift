import Postgres

/// The storage workers' partition leases in PostgreSQL as an operator sees them
/// (`chatd partitions`): which worker's endpoint holds each partition, live or run out.
public enum PartitionLeaseTable {
    public struct Lease: Sendable {
        public let partition: Int
        public let endpoint: String
        public let live: Bool
    }

    /// The leases as they are now, and the map's epoch.
    public static func read(url: String, partitions: Int) throws -> (leases: [Lease], epoch: UInt64) {
        let (leases, epoch) = try PartitionLeaseKeeper.readLeases(try PostgresConnection(url: url), partitions: partitions)
        return (leases.map { Lease(partition: $0.partition, endpoint: $0.endpoint, live: $0.live) }, epoch)
    }
}
