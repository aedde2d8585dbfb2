import ChatCrypto
import SQLite

/// Users, their friend lists and the bytes each has stored, in one SQLite file.
final class AccountStore {
    private let database: Database
    /// A second connection to the same file, for resumption tickets: its commits do not wait
    /// for the disk (`synchronous = NORMAL`), so a storm of resumes is not a storm of fsyncs.
    /// A power cut may forget the last tickets issued (their clients sign in with the password)
    /// or used (good once more); a crash of the process loses nothing. Revocations go through
    /// `database`, whose commits wait for the disk, and make the tickets' earlier ones durable too.
    private let tickets: Database
    private let findUser: Statement
    private let insertUser: Statement
    private let insertFriend: Statement
    private let listFriends: Statement
    private let findStoredBytes: Statement
    private let setStoredBytes: Statement
    /// Prepared once: a storm of resumes runs them by the thousand.
    private let ticketStatements: TicketStatements

    init(path: String) throws {
        database = try Database(path: path)
        try database.execute("""
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            CREATE TABLE IF NOT EXISTS users (
                uid TEXT PRIMARY KEY,
                salt BLOB NOT NULL,
                hash BLOB NOT NULL,
                scrypt_n INTEGER NOT NULL,
                scrypt_r INTEGER NOT NULL,
                scrypt_p INTEGER NOT NULL
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS friends (
                owner TEXT NOT NULL,
                friend TEXT NOT NULL,
                PRIMARY KEY (owner, friend)
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS stored_bytes (
                uid TEXT PRIMARY KEY,
                bytes INTEGER NOT NULL
            ) WITHOUT ROWID;
            """)
        try Self.makeTicketTables(in: database)
        findUser = try database.prepare("SELECT salt, hash, scrypt_n, scrypt_r, scrypt_p FROM users WHERE uid = ?")
        tickets = try Database(path: path)
        try tickets.execute("PRAGMA synchronous = NORMAL")
        insertUser = try database.prepare("""
            INSERT INTO users (uid, salt, hash, scrypt_n, scrypt_r, scrypt_p) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (uid) DO NOTHING
            """)
        insertFriend = try database.prepare("INSERT INTO friends (owner, friend) VALUES (?, ?) ON CONFLICT DO NOTHING")
        listFriends = try database.prepare("SELECT friend FROM friends WHERE owner = ? ORDER BY friend")
        findStoredBytes = try database.prepare("SELECT bytes FROM stored_bytes WHERE uid = ?")
        setStoredBytes = try database.prepare("""
            INSERT INTO stored_bytes (uid, bytes) VALUES (?, ?) ON CONFLICT (uid) DO UPDATE SET bytes = excluded.bytes
            """)
        ticketStatements = try TicketStatements(tickets: tickets, database: database)
    }

    func storedHash(of uid: String) throws -> PasswordHasher.StoredHash? {
        let statement = try findUser.bind(.text(uid))
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        let cost = Scrypt(n: UInt64(statement.int(at: 2)), r: UInt64(statement.int(at: 3)), p: UInt64(statement.int(at: 4)))
        return PasswordHasher.StoredHash(salt: statement.blob(at: 0), hash: statement.blob(at: 1), cost: cost)
    }

    /// False when the uid was taken (by an earlier or a concurrent sign-up).
    func create(_ uid: String, _ stored: PasswordHasher.StoredHash) throws -> Bool {
        try insertUser.bind(.text(uid), .blob(stored.salt), .blob(stored.hash),
                            .integer(Int64(stored.cost.n)), .integer(Int64(stored.cost.r)), .integer(Int64(stored.cost.p))).run()
        return database.changes == 1
    }

    /// False when `friend` was already in the list.
    func addFriend(owner: String, friend: String) throws -> Bool {
        try insertFriend.bind(.text(owner), .text(friend)).run()
        return database.changes == 1
    }

    func friends(of owner: String) throws -> [String] {
        let statement = try listFriends.bind(.text(owner))
        defer { statement.reset() }
        var friends: [String] = []
        while try statement.step() { friends.append(statement.text(at: 0)) }
        return friends
    }

    // MARK: Stored bytes (the per-user quota)

    /// Bytes of voice and file messages counted for `uid`, reserved uploads included.
    func storedBytes(of uid: String) throws -> Int64 {
        let statement = try findStoredBytes.bind(.text(uid))
        defer { statement.reset() }
        return try statement.step() ? statement.int(at: 0) : 0
    }

    /// Counts `bytes` more for `uid` if they fit within `quota`; false, counting nothing, if not.
    /// Counted before the upload starts, so uploads under way count too: two at once cannot
    /// both slip under the quota. Read and written in one `BEGIN IMMEDIATE` transaction, so
    /// auth workers sharing the file cannot both read the old count.
    func reserveStorage(_ bytes: Int64, for uid: String, within quota: StorageQuota) throws -> Bool {
        guard bytes >= 0 else { throw NegativeByteCount(bytes: bytes) }
        return try database.transaction {
            guard let total = quota.total(adding: bytes, to: try storedBytes(of: uid)) else { return false }
            try setStoredBytes.bind(.text(uid), .integer(total)).run()
            return true
        }
    }

    /// `bytes` reserved for an upload that was not stored count no more.
    func releaseStorage(_ bytes: Int64, for uid: String) throws {
        guard bytes >= 0 else { throw NegativeByteCount(bytes: bytes) }
        try database.transaction {
            let total = StorageQuota.total(releasing: bytes, from: try storedBytes(of: uid))
            try setStoredBytes.bind(.text(uid), .integer(total)).run()
        }
    }

    // MARK: Resumption tickets

    /// Made as it is now; a table of before ticket families (no `family` column) is dropped
    /// and made again: its tickets are forgotten, and their clients sign in with the password
    /// once. In one transaction, as auth workers sharing the file may start together.
    private static func makeTicketTables(in database: Database) throws {
        try database.transaction {
            let columns = try database.prepare("SELECT name FROM pragma_table_info('tickets')")
            var names: [String] = []
            while try columns.step() { names.append(columns.text(at: 0)) }
            columns.reset()
            if !names.isEmpty && !names.contains("family") { try database.execute("DROP TABLE tickets") }
            try database.execute("""
                CREATE TABLE IF NOT EXISTS tickets (
                    hash TEXT PRIMARY KEY,
                    uid TEXT NOT NULL,
                    family TEXT NOT NULL,
                    salt BLOB NOT NULL,
                    expires INTEGER NOT NULL,
                    state INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX IF NOT EXISTS tickets_by_uid ON tickets (uid);
                CREATE TABLE IF NOT EXISTS revoked_ticket_families (
                    uid TEXT NOT NULL,
                    family TEXT NOT NULL,
                    revoked INTEGER NOT NULL,
                    PRIMARY KEY (uid, family)
                ) WITHOUT ROWID;
                """)
        }
    }

    func storeTicket(_ hash: String, uid: String, family: String, salt: [UInt8], expires: Int64, forgetBefore: Int64) throws -> Bool {
        let sql = ticketStatements
        // A write transaction from the start (BEGIN IMMEDIATE): a revocation of the family
        // commits before the check or after the insert, never between.
        return try tickets.transaction {
            let revoked = try sql.findRevokedFamily.bind(.text(uid), .text(family))
            defer { revoked.reset() }
            if try revoked.step() { return false }
            try sql.forgetExpired.bind(.text(uid), .integer(forgetBefore)).run()
            try sql.supersedeFamily.bind(.text(uid), .text(family)).run()
            try sql.supersedePastKept.bind(.text(uid)).run()
            try sql.forgetOldTombstones.bind(.text(uid)).run()
            try sql.insert.bind(.text(hash), .text(uid), .text(family), .blob(salt), .integer(expires)).run()
            return true
        }
    }

    func useTicket(_ hash: String, uid: String, now: Int64) throws -> ResumptionTicket? {
        let sql = ticketStatements
        return try tickets.transaction {
            let found = try sql.find.bind(.text(hash), .text(uid))
            defer { found.reset() }
            guard try found.step() else { return nil }
            let ticket = ResumptionTicket(family: found.text(at: 0), salt: found.blob(at: 1), expires: found.int(at: 2),
                                          state: ResumptionTicket.State(stored: found.int(at: 3)))
            if ticket.state == .good && ticket.expires > now { try sql.markUsed.bind(.text(hash)).run() }
            return ticket
        }
    }

    func revokeTickets(of uid: String, family: String, now: Int64) throws -> Bool {
        let sql = ticketStatements
        return try database.transaction {
            try sql.rememberRevokedFamily.bind(.text(uid), .text(family), .integer(now)).run()
            let isNew = database.changes == 1
            try sql.forgetOldRevokedFamilies.bind(.text(uid)).run()
            try sql.revokeFamily.bind(.text(uid), .text(family)).run()
            return isNew
        }
    }
}

/// The statements of `AccountStore`'s tickets: those run on its ticket connection, and the
/// revocations, run on its synchronous one.
private struct TicketStatements {
    let findRevokedFamily, forgetExpired, supersedeFamily, supersedePastKept, forgetOldTombstones, insert, find, markUsed: Statement
    let rememberRevokedFamily, forgetOldRevokedFamilies, revokeFamily: Statement

    init(tickets: Database, database: Database) throws {
        let superseded = ResumptionTicket.State.superseded.rawValue
        findRevokedFamily = try tickets.prepare("SELECT 1 FROM revoked_ticket_families WHERE uid = ? AND family = ?")
        forgetExpired = try tickets.prepare("DELETE FROM tickets WHERE uid = ? AND expires <= ?")
        supersedeFamily = try tickets.prepare("UPDATE tickets SET state = \(superseded) WHERE uid = ? AND family = ? AND state = 0")
        // A user asking again and again keeps the newest few, not a table's worth.
        supersedePastKept = try tickets.prepare("""
            UPDATE tickets SET state = \(superseded) WHERE uid = ?1 AND state = 0 AND hash NOT IN
            (SELECT hash FROM tickets WHERE uid = ?1 AND state = 0 ORDER BY expires DESC LIMIT \(TicketLimits.ticketsKeptPerUser - 1))
            """)
        forgetOldTombstones = try tickets.prepare("""
            DELETE FROM tickets WHERE uid = ?1 AND state <> 0 AND hash NOT IN
            (SELECT hash FROM tickets WHERE uid = ?1 AND state <> 0 ORDER BY expires DESC LIMIT \(TicketLimits.tombstonesKeptPerUser))
            """)
        insert = try tickets.prepare("INSERT INTO tickets (hash, uid, family, salt, expires, state) VALUES (?, ?, ?, ?, ?, 0)")
        find = try tickets.prepare("SELECT family, salt, expires, state FROM tickets WHERE hash = ? AND uid = ?")
        markUsed = try tickets.prepare("UPDATE tickets SET state = \(ResumptionTicket.State.used.rawValue) WHERE hash = ?")
        rememberRevokedFamily = try database.prepare("INSERT INTO revoked_ticket_families (uid, family, revoked) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
        forgetOldRevokedFamilies = try database.prepare("""
            DELETE FROM revoked_ticket_families WHERE uid = ?1 AND family NOT IN
            (SELECT family FROM revoked_ticket_families WHERE uid = ?1 ORDER BY revoked DESC LIMIT \(TicketLimits.revokedFamiliesKeptPerUser))
            """)
        revokeFamily = try database.prepare("UPDATE tickets SET state = \(ResumptionTicket.State.revoked.rawValue) WHERE uid = ? AND family = ? AND state = 0")
    }
}
