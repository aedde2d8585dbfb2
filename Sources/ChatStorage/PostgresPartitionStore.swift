import ChatBus
import Postgres

/// One partition's history and file index in PostgreSQL (`storage.backend = "postgres"`):
/// the tables of every partition, a `partition` column telling them apart, so that any
/// worker can serve any partition. Every commit is synchronous (`synchronous_commit = on`
/// for the session whatever the server's default, `PostgresConnection`'s session settings):
/// an append is durable when it returns. A connection lost is made again for the next call.
final class PostgresPartitionStore: PartitionHistory {
    private let connection: PostgresConnection
    private let partition: Int64

    /// The schema every worker expects; created if missing.
    static let schema = """
        CREATE TABLE IF NOT EXISTS chat_records (
            partition integer NOT NULL,
            id bigserial NOT NULL,
            pair text NOT NULL,
            body bytea NOT NULL,
            PRIMARY KEY (partition, id)
        );
        CREATE INDEX IF NOT EXISTS chat_records_by_pair ON chat_records (partition, pair, id);
        CREATE TABLE IF NOT EXISTS chat_files (
            partition integer NOT NULL,
            pair text NOT NULL,
            name text NOT NULL,
            blob text NOT NULL,
            size bigint NOT NULL,
            PRIMARY KEY (partition, pair, name)
        );
        CREATE TABLE IF NOT EXISTS chat_settings (
            key text PRIMARY KEY,
            value text NOT NULL
        );
        """

    struct PartitionCountChanged: Error, CustomStringConvertible {
        let stored: String
        let configured: Int
        var description: String {
            "storage.partitions is \(configured) but the PostgreSQL database was made with \(stored) (pairs hash into partitions: it cannot change)"
        }
    }

    /// Rows read per page query at most; a page stops earlier at its byte budget.
    private static let rowsPerPage = 256

    /// `partitions`: the configured count, recorded by the first worker and checked by every
    /// later one, as the data folder's `PARTITIONS` file is for SQLite.
    init(url: String, partition: Int, partitions: Int) throws {
        connection = try PostgresConnection(url: url)
        self.partition = Int64(partition)
        // Workers starting together create the schema one at a time (CREATE ... IF NOT EXISTS
        // alone can still collide in the catalogs).
        try connection.transaction {
            try connection.query("SELECT pg_advisory_xact_lock(7302001)")
            try connection.execute(Self.schema)
            try connection.query("INSERT INTO chat_settings (key, value) VALUES ('partitions', $1) ON CONFLICT DO NOTHING",
                                 [.text(String(partitions))])
            let stored = try connection.query("SELECT value FROM chat_settings WHERE key = 'partitions'").text(0, 0)
            guard stored == String(partitions) else { throw PartitionCountChanged(stored: stored, configured: partitions) }
        }
    }

    func file(of pair: PairKey, named name: String) throws -> (blob: String, size: Int64)? {
        let rows = try connection.query("SELECT blob, size FROM chat_files WHERE partition = $1 AND pair = $2 AND name = $3",
                                        [.integer(partition), .text(pair.description), .text(name)])
        guard rows.count > 0 else { return nil }
        return (rows.text(0, 0), rows.integer(0, 1))
    }

    func commitFile(pair: PairKey, name: String, blob: String, size: Int64, record: (String) -> [UInt8]) throws -> String {
        try connection.transaction {
            let stored = try firstFreeName(for: name, pair: pair)
            try connection.query("INSERT INTO chat_files (partition, pair, name, blob, size) VALUES ($1, $2, $3, $4, $5)",
                                 [.integer(partition), .text(pair.description), .text(stored), .text(blob), .integer(size)])
            try connection.query("INSERT INTO chat_records (partition, pair, body) VALUES ($1, $2, $3)",
                                 [.integer(partition), .text(pair.description), .bytes(record(stored))])
            return stored
        }
    }

    func referencedBlobs() throws -> Set<String> {
        let rows = try connection.query("SELECT blob FROM chat_files WHERE partition = $1", [.integer(partition)])
        return Set((0..<rows.count).map { rows.text($0, 0) })
    }

    /// One pipelined transaction: BEGIN, a row per pair, COMMIT in one round trip.
    func append(_ records: [(pair: PairKey, record: [UInt8])]) throws {
        let rows = Self.rowsByPair(records)
        try connection.pipelinedTransaction(rows.map { row in
            ("INSERT INTO chat_records (partition, pair, body) VALUES ($1, $2, $3)",
             [.integer(partition), .text(row.pair), .bytes(row.body)])
        })
    }

    func historySnapshot(of pair: PairKey) throws -> (through: Int64, size: Int64) {
        let rows = try connection.query(
            "SELECT coalesce(max(id), 0), coalesce(sum(length(body)), 0)::bigint FROM chat_records WHERE partition = $1 AND pair = $2",
            [.integer(partition), .text(pair.description)])
        return (rows.integer(0, 0), rows.integer(0, 1))
    }

    func historyPage(of pair: PairKey, after: Int64, through: Int64, maxBytes: Int) throws -> (last: Int64, bytes: [UInt8]) {
        let rows = try connection.query("""
            SELECT id, length(body)::bigint, body FROM chat_records
            WHERE partition = $1 AND pair = $2 AND id > $3 AND id <= $4 ORDER BY id LIMIT \(Self.rowsPerPage)
            """, [.integer(partition), .text(pair.description), .integer(after), .integer(through)])
        var bytes: [UInt8] = []
        var last = after
        for row in 0..<rows.count {
            guard bytes.isEmpty || bytes.count + Int(rows.integer(row, 1)) <= maxBytes else { break }
            last = rows.integer(row, 0)
            rows.appendBytes(row, 2, to: &bytes)
        }
        return (last, bytes)
    }
}
