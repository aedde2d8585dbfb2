import ChatBus
import ChatProtocol
import Postgres

/// One partition's history and file index in PostgreSQL (`storage.backend = "postgres"`):
/// the tables of every partition, a `partition` column telling them apart, so that any
/// worker can serve any partition. Every commit is synchronous (`synchronous_commit = on`
/// for the session whatever the server's default): an append is durable when it returns.
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
        """

    /// Rows read per page query at most; a page stops earlier at its byte budget.
    private static let rowsPerPage = 256

    init(url: String, partition: Int) throws {
        connection = try PostgresConnection(url: url)
        self.partition = Int64(partition)
        try connection.execute("SET synchronous_commit = on")
        // Workers starting together create the schema one at a time (CREATE ... IF NOT EXISTS
        // alone can still collide in the catalogs).
        try connection.transaction {
            try connection.query("SELECT pg_advisory_xact_lock(7302001)")
            try connection.execute(Self.schema)
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
            var stored = name
            var copy = 1
            while try file(of: pair, named: stored) != nil {
                copy += 1
                stored = FileNames.variant(of: name, copy: copy)
            }
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
