import ChatBus
import SQLite

/// The history of every pair in one partition: one SQLite file, appended in groups.
final class PartitionStore {
    private let database: Database
    private let insertRecord: Statement
    private let selectHistory: Statement

    init(path: String) throws {
        database = try Database(path: path)
        // WAL with synchronous=FULL: each COMMIT fsyncs the log, so a confirmed append survives
        // a power cut; grouping many appends per COMMIT pays that fsync once per group.
        try database.execute("""
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            CREATE TABLE IF NOT EXISTS records (
                id INTEGER PRIMARY KEY,
                pair TEXT NOT NULL,
                body BLOB NOT NULL
            );
            CREATE INDEX IF NOT EXISTS records_by_pair ON records (pair, id);
            """)
        insertRecord = try database.prepare("INSERT INTO records (pair, body) VALUES (?, ?)")
        selectHistory = try database.prepare("SELECT body FROM records WHERE pair = ? ORDER BY id")
    }

    /// Appends all records in one transaction: all are durable when this returns, or none.
    func append(_ records: [(pair: PairKey, record: [UInt8])]) throws {
        try database.transaction {
            for (pair, record) in records {
                try insertRecord.bind(.text(pair.description), .blob(record)).run()
            }
        }
    }

    /// Every record of the pair, oldest first, concatenated as the protocol sends them.
    func history(of pair: PairKey) throws -> [UInt8] {
        let statement = try selectHistory.bind(.text(pair.description))
        defer { statement.reset() }
        var bytes: [UInt8] = []
        while try statement.step() { statement.appendBlob(at: 0, to: &bytes) }
        return bytes
    }
}
