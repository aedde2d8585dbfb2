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

    /// The tables every worker expects (`PostgresSchema`: created if missing, version checked).
    /// `chat_partition_leases` says which worker serves each partition (`PartitionLeaseKeeper`),
    /// and `chat_hold_lease` fences a commit: it locks the partition's lease row for the
    /// transaction and fails unless the row still names the committing worker, so a worker
    /// that lost its lease cannot write, and one taking a lease waits for commits under way.
    static let schema = PostgresSchema(component: "storage", version: 1, creation: """
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
        CREATE TABLE IF NOT EXISTS chat_uploads (
            upload bigint PRIMARY KEY,
            partition integer NOT NULL,
            blob text NOT NULL,
            touched timestamptz NOT NULL
        );
        CREATE TABLE IF NOT EXISTS chat_blob_chunks (
            blob text NOT NULL,
            start bigint NOT NULL,
            bytes bytea NOT NULL,
            PRIMARY KEY (blob, start)
        );
        ALTER TABLE chat_blob_chunks ALTER COLUMN bytes SET STORAGE EXTERNAL;
        CREATE TABLE IF NOT EXISTS chat_settings (
            key text PRIMARY KEY,
            value text NOT NULL
        );
        CREATE TABLE IF NOT EXISTS chat_storage_workers (
            endpoint text PRIMARY KEY,
            holder text NOT NULL,
            alive_until timestamptz NOT NULL
        );
        CREATE TABLE IF NOT EXISTS chat_partition_leases (
            partition integer PRIMARY KEY,
            endpoint text NOT NULL,
            holder text NOT NULL,
            expires timestamptz NOT NULL
        );
        CREATE OR REPLACE FUNCTION chat_hold_lease(leased integer, worker text) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM 1 FROM chat_partition_leases WHERE partition = leased AND holder = worker FOR SHARE;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'partition % is no longer leased to this storage worker', leased USING ERRCODE = 'CH001';
            END IF;
        END $$;
        """)

    /// Whether `error` is `chat_hold_lease` refusing a write: another worker holds the
    /// partition's lease now, and nothing of the transaction was written.
    static func isLeaseLost(_ error: Error) -> Bool {
        (error as? PostgresError)?.sqlState == "CH001"
    }

    struct PartitionCountChanged: Error, CustomStringConvertible {
        let stored: String
        let configured: Int
        var description: String {
            "storage.partitions is \(configured) but the PostgreSQL database was made with \(stored) (pairs hash into partitions: it cannot change)"
        }
    }

    /// Rows read per page query at most; a page stops earlier at its byte budget.
    private static let rowsPerPage = 256

    /// Who must hold the partition's lease for a write to commit (`chat_hold_lease`); nil
    /// writes unfenced (tests of the store alone).
    private let leaseHolder: String?

    /// Opens the partition's store; `prepare` makes sure of the schema first (once per
    /// process is enough: `PartitionLeaseKeeper` does it for a worker).
    init(url: String, partition: Int, partitions: Int, leaseHolder: String? = nil, prepare: Bool = true) throws {
        connection = try PostgresConnection(url: url)
        self.partition = Int64(partition)
        self.leaseHolder = leaseHolder
        if prepare { try Self.prepare(connection, partitions: partitions) }
    }

    /// Makes sure of the schema, and that the database was made for `partitions` partitions:
    /// the configured count, recorded by the first worker and checked by every later one, as
    /// the data folder's `PARTITIONS` file is for SQLite.
    static func prepare(_ connection: PostgresConnection, partitions: Int) throws {
        try schema.prepare(on: connection) {
            try connection.query("INSERT INTO chat_settings (key, value) VALUES ('partitions', $1) ON CONFLICT DO NOTHING",
                                 [.text(String(partitions))])
            let stored = try connection.query("SELECT value FROM chat_settings WHERE key = 'partitions'").text(0, 0)
            guard stored == String(partitions) else { throw PartitionCountChanged(stored: stored, configured: partitions) }
        }
    }

    /// The statement that fences a write transaction, first in it; none without a holder.
    private var fence: [(sql: String, parameters: [PostgresValue])] {
        guard let leaseHolder else { return [] }
        return [("SELECT chat_hold_lease($1, $2)", [.integer(partition), .text(leaseHolder)])]
    }

    func file(of pair: PairKey, named name: String) throws -> (blob: String, size: Int64)? {
        let rows = try connection.query("SELECT blob, size FROM chat_files WHERE partition = $1 AND pair = $2 AND name = $3",
                                        [.integer(partition), .text(pair.description), .text(name)])
        guard rows.count > 0 else { return nil }
        return (rows.text(0, 0), rows.integer(0, 1))
    }

    func commitFile(pair: PairKey, name: String, blob: String, size: Int64, record: (String) -> [UInt8]) throws -> String {
        try connection.transaction {
            for (sql, parameters) in fence { try connection.query(sql, parameters) }
            let stored = try firstFreeName(for: name, pair: pair)
            try connection.query("INSERT INTO chat_files (partition, pair, name, blob, size) VALUES ($1, $2, $3, $4, $5)",
                                 [.integer(partition), .text(pair.description), .text(stored), .text(blob), .integer(size)])
            try connection.query("INSERT INTO chat_records (partition, pair, body) VALUES ($1, $2, $3)",
                                 [.integer(partition), .text(pair.description), .bytes(record(stored))])
            // Its bytes in the database (`PostgresBlobStore`) are a stored file's from now on.
            try connection.query("DELETE FROM chat_uploads WHERE blob = $1", [.text(blob)])
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
        try connection.pipelinedTransaction(fence + rows.map { row in
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
