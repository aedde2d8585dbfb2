import Postgres
import SQLite

/// Copies an embedded system's accounts (`auth/accounts.sqlite`: users, friends, stored-byte
/// counts) into PostgreSQL (`chatd migrate`). Safe to run again: rows already there are left
/// as they are (a uid, a friendship, a count), so a second run copies only what is new.
public enum AccountMigration {
    public struct Summary: Sendable {
        /// Rows added by this run, of each table.
        public var users = 0, friends = 0, storedBytes = 0
    }

    /// Rows sent per round trip.
    static let batch = 500

    public static func run(from path: String, to url: String) throws -> Summary {
        let source = try Database(path: path, create: false)
        let target = try PostgresConnection(url: url)
        try PostgresAccountStore.schema.prepare(on: target)
        var summary = Summary()
        summary.users = try copy(from: source, "SELECT uid, salt, hash, scrypt_n, scrypt_r, scrypt_p FROM users", to: target,
                                 table: "chat_users", """
                                     INSERT INTO chat_users (uid, salt, hash, scrypt_n, scrypt_r, scrypt_p)
                                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING
                                     """) { row in
            [.text(row.text(at: 0)), .bytes(row.blob(at: 1)), .bytes(row.blob(at: 2)),
             .integer(row.int(at: 3)), .integer(row.int(at: 4)), .integer(row.int(at: 5))]
        }
        summary.friends = try copy(from: source, "SELECT owner, friend FROM friends", to: target, table: "chat_friends",
                                   "INSERT INTO chat_friends (owner, friend) VALUES ($1, $2) ON CONFLICT DO NOTHING") { row in
            [.text(row.text(at: 0)), .text(row.text(at: 1))]
        }
        summary.storedBytes = try copy(from: source, "SELECT uid, bytes FROM stored_bytes", to: target, table: "chat_stored_bytes",
                                       "INSERT INTO chat_stored_bytes (uid, bytes) VALUES ($1, $2) ON CONFLICT DO NOTHING") { row in
            [.text(row.text(at: 0)), .integer(row.int(at: 1))]
        }
        return summary
    }

    /// Every row `query` reads, inserted by `insert` in pipelined batches; returns how many
    /// rows `table` gained.
    private static func copy(from source: Database, _ query: String, to target: PostgresConnection, table: String,
                             _ insert: String, _ values: (Statement) -> [PostgresValue]) throws -> Int {
        let before = try target.query("SELECT count(*) FROM \(table)").integer(0, 0)
        let rows = try source.prepare(query)
        var pending: [(sql: String, parameters: [PostgresValue])] = []
        while try rows.step() {
            pending.append((insert, values(rows)))
            if pending.count == batch {
                try target.pipelinedTransaction(pending)
                pending.removeAll(keepingCapacity: true)
            }
        }
        if !pending.isEmpty { try target.pipelinedTransaction(pending) }
        return Int(try target.query("SELECT count(*) FROM \(table)").integer(0, 0) - before)
    }
}
