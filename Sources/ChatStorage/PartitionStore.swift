import ChatBus
import SQLite

/// The history of every pair in one partition: one SQLite file, appended in groups, and the
/// index of the files stored through the server (their bytes are in the partition's
/// `BlobFolder`).
final class PartitionStore {
    private let database: Database
    private let insertRecord: Statement
    private let selectHistorySnapshot: Statement
    private let selectHistoryPage: Statement
    private let insertFile: Statement
    private let selectFile: Statement
    private let selectBlobs: Statement

    init(path: String) throws {
        database = try Database(path: path)
        // WAL with synchronous=FULL: each COMMIT fsyncs the log, so a confirmed append survives
        // a power cut; grouping many appends per COMMIT pays that fsync once per group.
        try database.execute("""
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            -- A row holds one or more whole records of the pair, in order; ids order the rows.
            CREATE TABLE IF NOT EXISTS records (
                id INTEGER PRIMARY KEY,
                pair TEXT NOT NULL,
                body BLOB NOT NULL
            );
            CREATE INDEX IF NOT EXISTS records_by_pair ON records (pair, id);
            CREATE TABLE IF NOT EXISTS files (
                pair TEXT NOT NULL,
                name TEXT NOT NULL,
                blob TEXT NOT NULL,
                size INTEGER NOT NULL,
                PRIMARY KEY (pair, name)
            ) WITHOUT ROWID;
            """)
        insertRecord = try database.prepare("INSERT INTO records (pair, body) VALUES (?, ?)")
        selectHistorySnapshot = try database.prepare(
            "SELECT coalesce(max(id), 0), coalesce(sum(length(body)), 0) FROM records WHERE pair = ?")
        selectHistoryPage = try database.prepare(
            "SELECT id, length(body), body FROM records WHERE pair = ? AND id > ? AND id <= ? ORDER BY id")
        insertFile = try database.prepare("INSERT INTO files (pair, name, blob, size) VALUES (?, ?, ?, ?)")
        selectFile = try database.prepare("SELECT blob, size FROM files WHERE pair = ? AND name = ?")
        selectBlobs = try database.prepare("SELECT blob FROM files")
    }

    /// The blob and size of a stored file, by the name it was stored under.
    func file(of pair: PairKey, named name: String) throws -> (blob: String, size: Int64)? {
        let statement = try selectFile.bind(.text(pair.description), .text(name))
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        return (statement.text(at: 0), statement.int(at: 1))
    }

    /// Commits a durable blob and its history record together, under the first free name of
    /// `name`, `name (2)`, `name (3)`...; returns the name used.
    func commitFile(pair: PairKey, name: String, blob: String, size: Int64, record: (String) -> [UInt8]) throws -> String {
        try database.transaction {
            let stored = try firstFreeName(for: name, pair: pair)
            try insertFile.bind(.text(pair.description), .text(stored), .text(blob), .integer(size)).run()
            try insertRecord.bind(.text(pair.description), .blob(record(stored))).run()
            return stored
        }
    }

    /// Every blob a record refers to.
    func referencedBlobs() throws -> Set<String> {
        let statement = try selectBlobs.bind()
        defer { statement.reset() }
        var blobs: Set<String> = []
        while try statement.step() { blobs.insert(statement.text(at: 0)) }
        return blobs
    }

    /// Appends all records in one transaction: all are durable when this returns, or none;
    /// a pair's records of the group in one row (`rowsByPair`).
    func append(_ records: [(pair: PairKey, record: [UInt8])]) throws {
        let rows = Self.rowsByPair(records)
        try database.transaction {
            for row in rows {
                try insertRecord.bind(.text(row.pair), .blob(row.body)).run()
            }
        }
    }

    /// The pair's history as it is now: the id of its last row (0 when it has none) and the
    /// byte count of every record up to it. Rows are never changed or removed, so the pages up
    /// to that id add up to exactly that count, whatever is appended meanwhile.
    func historySnapshot(of pair: PairKey) throws -> (through: Int64, size: Int64) {
        let statement = try selectHistorySnapshot.bind(.text(pair.description))
        defer { statement.reset() }
        _ = try statement.step()
        return (statement.int(at: 0), statement.int(at: 1))
    }

    /// The pair's rows with ids in `after+1 ... through`, oldest first, concatenated as the
    /// protocol sends them: whole rows only, as many as fit in `maxBytes`, but at least one.
    /// `last` is the id of the last row in the page (`after` when there is none).
    ///
    /// Each page is its own short read, so no read transaction stays open between pages to hold
    /// back the WAL's checkpoints.
    func historyPage(of pair: PairKey, after: Int64, through: Int64, maxBytes: Int) throws -> (last: Int64, bytes: [UInt8]) {
        let statement = try selectHistoryPage.bind(.text(pair.description), .integer(after), .integer(through))
        defer { statement.reset() }
        var bytes: [UInt8] = []
        var last = after
        while try statement.step() {
            // The length comes from the row's header: a row that does not fit is never read.
            guard bytes.isEmpty || bytes.count + Int(statement.int(at: 1)) <= maxBytes else { break }
            last = statement.int(at: 0)
            statement.appendBlob(at: 2, to: &bytes)
        }
        return (last, bytes)
    }
}
