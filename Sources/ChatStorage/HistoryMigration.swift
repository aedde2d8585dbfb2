import Foundation
import Postgres
import SQLite

/// Copies an embedded system's histories and stored files (`history/partition-N.sqlite` and
/// `files/partition-N/`) into PostgreSQL (`chatd migrate`), partition by partition, in the
/// order the texts were stored.
///
/// Safe to run again, and to run again after a run cut short: each partition's progress is
/// recorded in the same transaction as the records it copied (`chat_settings`,
/// `migrated_records_N`: the last SQLite row id copied), so a run carries on after it; a file
/// already recorded is skipped, and one half copied (its bytes without its record) is copied
/// again whole, its record committed after its bytes. Storage workers must not be running
/// on the data folder (`StoppedDataFolder` holds their partition locks), and a partition that already has
/// history in the database that did not come from a migration is refused: the copied texts
/// would land after it.
public enum HistoryMigration {
    public struct Summary: Sendable {
        public var partitions = 0, records = 0, files = 0, fileBytes: Int64 = 0
        /// Files a record names whose bytes are not in the data folder: not copied.
        public var missingFiles: [String] = []
    }

    struct Refused: Error, CustomStringConvertible {
        let description: String
    }

    /// Rows sent per round trip.
    static let batch = 500

    /// Every partition lock of an embedded system's data folder, held while it is copied: no
    /// storage worker can start on it meanwhile.
    public final class StoppedDataFolder {
        let dataDirectory: String
        let partitions: Int
        private let locks: [PartitionLock]

        /// Takes the locks; refuses if a storage worker holds any (chatd runs on the folder).
        public init(_ dataDirectory: String) throws {
            let history = "\(dataDirectory)/history"
            guard let counted = try? String(contentsOfFile: "\(history)/PARTITIONS", encoding: .utf8),
                  let partitions = Int(counted.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw Refused(description: "\(history)/PARTITIONS is missing: \(dataDirectory) is not an embedded system's data folder")
            }
            locks = try (0..<partitions).map { partition in
                guard let lock = try PartitionLock(path: "\(history)/partition-\(partition).lock") else {
                    throw Refused(description: "a storage worker holds partition \(partition) of \(dataDirectory): stop chatd first")
                }
                return lock
            }
            self.dataDirectory = dataDirectory
            self.partitions = partitions
        }

        deinit { for lock in locks { lock.release() } }
    }

    /// `filesFolder`: where the system kept its file bytes (`storage.files_folder`), if not in
    /// the data folder's `files/`.
    public static func run(_ folder: StoppedDataFolder, filesFolder: String? = nil, to url: String) throws -> Summary {
        let dataDirectory = folder.dataDirectory, history = "\(folder.dataDirectory)/history"
        let target = try PostgresConnection(url: url)
        try PostgresPartitionStore.prepare(target, partitions: folder.partitions)
        var summary = Summary()
        for partition in 0..<folder.partitions {
            let path = "\(history)/partition-\(partition).sqlite"
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let source = try Database(path: path, create: false)
            summary.partitions += 1
            summary.records += try copyRecords(of: partition, from: source, to: target)
            let files = filesFolder ?? "\(dataDirectory)/files"
            try copyFiles(of: partition, from: source, folder: "\(files)/partition-\(partition)", to: target, into: &summary)
        }
        return summary
    }

    private static func copyRecords(of partition: Int, from source: Database, to target: PostgresConnection) throws -> Int {
        let marker = "migrated_records_\(partition)"
        let recorded = try target.query("SELECT value FROM chat_settings WHERE key = $1", [.text(marker)])
        var last: Int64 = recorded.count > 0 ? Int64(recorded.text(0, 0)) ?? 0 : 0
        if recorded.count == 0 {
            let present = try target.query("SELECT count(*) FROM chat_records WHERE partition = $1", [.integer(Int64(partition))])
            guard present.integer(0, 0) == 0 else {
                throw Refused(description: "partition \(partition) already has history in PostgreSQL that no migration wrote: "
                    + "migrate into a database the system has not used yet")
            }
            // Marked before the first row, so that a partition with none is known as migrated too.
            try target.query("INSERT INTO chat_settings (key, value) VALUES ($1, '0')", [.text(marker)])
        }
        let rows = try source.prepare("SELECT id, pair, body FROM records WHERE id > ? ORDER BY id LIMIT \(batch)")
        var copied = 0
        while true {
            var statements: [(sql: String, parameters: [PostgresValue])] = []
            let page = try rows.bind(.integer(last))
            defer { page.reset() }
            while try page.step() {
                last = page.int(at: 0)
                statements.append(("INSERT INTO chat_records (partition, pair, body) VALUES ($1, $2, $3)",
                                   [.integer(Int64(partition)), .text(page.text(at: 1)), .bytes(page.blob(at: 2))]))
            }
            guard !statements.isEmpty else { return copied }
            // The progress commits with the rows it counts: a run cut short carries on here.
            statements.append(("""
                INSERT INTO chat_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value
                """, [.text(marker), .text(String(last))]))
            try target.pipelinedTransaction(statements)
            copied += statements.count - 1
        }
    }

    private static func copyFiles(of partition: Int, from source: Database, folder: String, to target: PostgresConnection,
                                  into summary: inout Summary) throws {
        let files = try source.prepare("SELECT pair, name, blob, size FROM files ORDER BY pair, name")
        while try files.step() {
            let pair = files.text(at: 0), name = files.text(at: 1), blob = files.text(at: 2), size = files.int(at: 3)
            let known = try target.query("SELECT 1 FROM chat_files WHERE partition = $1 AND pair = $2 AND name = $3",
                                         [.integer(Int64(partition)), .text(pair), .text(name)])
            guard known.count == 0 else { continue }
            guard let handle = FileHandle(forReadingAtPath: "\(folder)/\(blob)") else {
                summary.missingFiles.append("partition \(partition): \(pair) \(name)")
                continue
            }
            defer { try? handle.close() }
            try target.transaction {
                // Whatever an earlier run cut short left of this blob's bytes goes first.
                try target.query("DELETE FROM chat_blob_chunks WHERE blob = $1", [.text(blob)])
                var start: Int64 = 0
                while let chunk = try handle.read(upToCount: PostgresBlobStore.rowBytes), !chunk.isEmpty {
                    try target.query("INSERT INTO chat_blob_chunks (blob, start, bytes) VALUES ($1, $2, $3)",
                                     [.text(blob), .integer(start), .bytes(Array(chunk))])
                    start += Int64(chunk.count)
                }
                guard start == size else {
                    throw Refused(description: "\(folder)/\(blob) holds \(start) bytes but its record says \(size)")
                }
                try target.query("INSERT INTO chat_files (partition, pair, name, blob, size) VALUES ($1, $2, $3, $4, $5)",
                                 [.integer(Int64(partition)), .text(pair), .text(name), .text(blob), .integer(size)])
            }
            summary.files += 1
            summary.fileBytes += size
        }
    }
}
