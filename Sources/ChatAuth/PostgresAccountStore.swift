import ChatCrypto
import Postgres

/// Users, friends and stored bytes in PostgreSQL (`auth.backend = "postgres"`), shared by
/// every auth worker: a sign-up taken by one is seen by all, and a quota reservation locks
/// the user's row, so two workers cannot both let an upload slip under it. Commits are
/// synchronous whatever the server's default; a connection lost is made again for the next call.
final class PostgresAccountStore: AccountRecords {
    private let connection: PostgresConnection
    /// A second session for resumption tickets, whose commits do not wait for the disk
    /// (`synchronous_commit = off`): a storm of resumes is not a storm of WAL flushes. A server
    /// crash may forget the last tickets issued or used.
    private let tickets: PostgresConnection

    /// The tables (`PostgresSchema`: created if missing, version checked at each start).
    /// Version 2 added `chat_tickets` (session resumption); version 3 gave tickets a family
    /// and kept used and revoked ones as tombstones (its upgrade forgets version 2's tickets:
    /// their clients sign in with the password once); version 4 added
    /// `chat_revoked_ticket_families` (made by `creation`, as every table is if missing).
    static let schema = PostgresSchema(component: "auth", version: 4, creation: """
        CREATE TABLE IF NOT EXISTS chat_users (
            uid text PRIMARY KEY,
            salt bytea NOT NULL,
            hash bytea NOT NULL,
            scrypt_n bigint NOT NULL,
            scrypt_r bigint NOT NULL,
            scrypt_p bigint NOT NULL
        );
        CREATE TABLE IF NOT EXISTS chat_friends (
            owner text NOT NULL,
            friend text NOT NULL,
            PRIMARY KEY (owner, friend)
        );
        CREATE TABLE IF NOT EXISTS chat_stored_bytes (
            uid text PRIMARY KEY,
            bytes bigint NOT NULL
        );
        CREATE TABLE IF NOT EXISTS chat_tickets (
            hash text PRIMARY KEY,
            uid text NOT NULL,
            family text NOT NULL,
            salt bytea NOT NULL,
            expires bigint NOT NULL,
            state smallint NOT NULL
        );
        CREATE INDEX IF NOT EXISTS chat_tickets_by_uid ON chat_tickets (uid);
        CREATE TABLE IF NOT EXISTS chat_revoked_ticket_families (
            uid text NOT NULL,
            family text NOT NULL,
            revoked bigint NOT NULL,
            PRIMARY KEY (uid, family)
        );
        """, upgrades: [2: "DROP TABLE IF EXISTS chat_tickets"])

    init(url: String) throws {
        connection = try PostgresConnection(url: url)
        try Self.schema.prepare(on: connection)
        tickets = try PostgresConnection(url: url, sessionSettings: PostgresConnection.defaultSessionSettings + ["SET synchronous_commit = off"])
    }

    func storedHash(of uid: String) throws -> PasswordHasher.StoredHash? {
        let rows = try connection.query("SELECT salt, hash, scrypt_n, scrypt_r, scrypt_p FROM chat_users WHERE uid = $1", [.text(uid)])
        guard rows.count > 0 else { return nil }
        let cost = Scrypt(n: UInt64(rows.integer(0, 2)), r: UInt64(rows.integer(0, 3)), p: UInt64(rows.integer(0, 4)))
        return PasswordHasher.StoredHash(salt: rows.bytes(0, 0), hash: rows.bytes(0, 1), cost: cost)
    }

    func create(_ uid: String, _ stored: PasswordHasher.StoredHash) throws -> Bool {
        let rows = try connection.query("""
            INSERT INTO chat_users (uid, salt, hash, scrypt_n, scrypt_r, scrypt_p) VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (uid) DO NOTHING RETURNING 1
            """, [.text(uid), .bytes(stored.salt), .bytes(stored.hash),
                  .integer(Int64(stored.cost.n)), .integer(Int64(stored.cost.r)), .integer(Int64(stored.cost.p))])
        return rows.count == 1
    }

    func addFriend(owner: String, friend: String) throws -> Bool {
        try connection.query("INSERT INTO chat_friends (owner, friend) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1",
                             [.text(owner), .text(friend)]).count == 1
    }

    func friends(of owner: String) throws -> [String] {
        let rows = try connection.query("SELECT friend FROM chat_friends WHERE owner = $1 ORDER BY friend", [.text(owner)])
        return (0..<rows.count).map { rows.text($0, 0) }
    }

    func storedBytes(of uid: String) throws -> Int64 {
        let rows = try connection.query("SELECT bytes FROM chat_stored_bytes WHERE uid = $1", [.text(uid)])
        return rows.count > 0 ? rows.integer(0, 0) : 0
    }

    func storeTicket(_ hash: String, uid: String, family: String, salt: [UInt8], expires: Int64, forgetBefore: Int64) throws -> Bool {
        // One round trip. The account's row is locked first, as a revocation locks it: one of
        // the two waits for the other, so a ticket cannot slip into a family being revoked.
        let rows = try tickets.pipelinedTransaction([
            ("SELECT 1 FROM chat_users WHERE uid = $1 FOR UPDATE", [.text(uid)]),
            ("DELETE FROM chat_tickets WHERE uid = $1 AND expires <= $2", [.text(uid), .integer(forgetBefore)]),
            ("UPDATE chat_tickets SET state = \(ResumptionTicket.State.superseded.rawValue) WHERE uid = $1 AND family = $2 AND state = 0",
             [.text(uid), .text(family)]),
            ("""
             UPDATE chat_tickets SET state = \(ResumptionTicket.State.superseded.rawValue) WHERE uid = $1 AND state = 0 AND hash NOT IN
             (SELECT hash FROM chat_tickets WHERE uid = $1 AND state = 0 ORDER BY expires DESC LIMIT \(TicketLimits.ticketsKeptPerUser - 1))
             """, [.text(uid)]),
            ("""
             DELETE FROM chat_tickets WHERE uid = $1 AND state <> 0 AND hash NOT IN
             (SELECT hash FROM chat_tickets WHERE uid = $1 AND state <> 0 ORDER BY expires DESC LIMIT \(TicketLimits.tombstonesKeptPerUser))
             """, [.text(uid)]),
            ("""
             INSERT INTO chat_tickets (hash, uid, family, salt, expires, state) SELECT $1::text, $2::text, $3::text, $4::bytea, $5::bigint, 0
             WHERE NOT EXISTS (SELECT 1 FROM chat_revoked_ticket_families WHERE uid = $2 AND family = $3) RETURNING 1
             """, [.text(hash), .text(uid), .text(family), .bytes(salt), .integer(expires)]),
        ])
        return rows.last == 1
    }

    func useTicket(_ hash: String, uid: String, now: Int64) throws -> ResumptionTicket? {
        // One statement, one round trip: the row locked, used if good, returned as it was. A
        // second worker using the same ticket at once waits for the lock and finds it used.
        let rows = try tickets.query("""
            UPDATE chat_tickets AS t SET state = CASE WHEN t.state = 0 AND t.expires > $3 THEN \(ResumptionTicket.State.used.rawValue) ELSE t.state END
            FROM (SELECT hash, state FROM chat_tickets WHERE hash = $1 AND uid = $2 FOR UPDATE) AS before
            WHERE t.hash = before.hash
            RETURNING t.family, t.salt, t.expires, before.state
            """, [.text(hash), .text(uid), .integer(now)])
        guard rows.count == 1 else { return nil }
        return ResumptionTicket(family: rows.text(0, 0), salt: rows.bytes(0, 1), expires: rows.integer(0, 2),
                                state: ResumptionTicket.State(stored: rows.integer(0, 3)))
    }

    func revokeTickets(of uid: String, family: String, now: Int64) throws -> Bool {
        // On the synchronous session: durable when it returns.
        try connection.transaction {
            try connection.query("SELECT 1 FROM chat_users WHERE uid = $1 FOR UPDATE", [.text(uid)])
            let added = try connection.query("""
                INSERT INTO chat_revoked_ticket_families (uid, family, revoked) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1
                """, [.text(uid), .text(family), .integer(now)])
            try connection.query("""
                 DELETE FROM chat_revoked_ticket_families WHERE uid = $1 AND family NOT IN
                 (SELECT family FROM chat_revoked_ticket_families WHERE uid = $1 ORDER BY revoked DESC LIMIT \(TicketLimits.revokedFamiliesKeptPerUser))
                 """, [.text(uid)])
            try connection.query("UPDATE chat_tickets SET state = \(ResumptionTicket.State.revoked.rawValue) WHERE uid = $1 AND family = $2 AND state = 0",
                                 [.text(uid), .text(family)])
            return added.count == 1
        }
    }

    func reserveStorage(_ bytes: Int64, for uid: String, within quota: StorageQuota) throws -> Bool {
        guard bytes >= 0 else { throw NegativeByteCount(bytes: bytes) }
        return try withLockedCount(of: uid) { stored in quota.total(adding: bytes, to: stored) }
    }

    func releaseStorage(_ bytes: Int64, for uid: String) throws {
        guard bytes >= 0 else { throw NegativeByteCount(bytes: bytes) }
        _ = try withLockedCount(of: uid) { stored in StorageQuota.total(releasing: bytes, from: stored) }
    }

    /// Reads the user's count with its row locked (made first if missing), and writes the new
    /// total `change` gives, if any; true when it wrote one.
    private func withLockedCount(of uid: String, _ change: (Int64) -> Int64?) throws -> Bool {
        try connection.transaction {
            try connection.query("INSERT INTO chat_stored_bytes (uid, bytes) VALUES ($1, 0) ON CONFLICT DO NOTHING", [.text(uid)])
            let stored = try connection.query("SELECT bytes FROM chat_stored_bytes WHERE uid = $1 FOR UPDATE", [.text(uid)]).integer(0, 0)
            guard let total = change(stored) else { return false }
            try connection.query("UPDATE chat_stored_bytes SET bytes = $2 WHERE uid = $1", [.text(uid), .integer(total)])
            return true
        }
    }
}
