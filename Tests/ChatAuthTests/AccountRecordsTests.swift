@testable import ChatAuth
import ChatCrypto
import ChatTestSupport
import Foundation
import Postgres
import SQLite
import Synchronization
import Testing

/// Accounts, friends and the stored-bytes quota, with each backend: a SQLite file (the
/// embedded default) and PostgreSQL (a throwaway server, a new database per test).
@Suite struct AccountRecordsTests {
    enum Backend: CaseIterable { case sqlite, postgres }

    static let postgres = Result { try PostgresServer() }

    /// `body` with a way to open the same accounts again (as a restarted or second worker would).
    private func withAccounts(_ backend: Backend, _ body: (_ open: () throws -> any AccountRecords) throws -> Void) throws {
        switch backend {
        case .sqlite:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("accounts-\(UUID().uuidString).sqlite").path
            defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
            try body { try AccountStore(path: path) }
        case .postgres:
            let url = try Self.postgres.get().newDatabase()
            try body { try PostgresAccountStore(url: url) }
        }
    }

    private let stored = PasswordHasher.StoredHash(salt: [1, 2, 3], hash: [0, 255, 7], cost: Scrypt(n: 16, r: 8, p: 1))

    @Test(arguments: Backend.allCases) func aUIDIsTakenOnceAndItsHashKept(_ backend: Backend) throws {
        try withAccounts(backend) { open in
            let accounts = try open()
            #expect(try accounts.create("111111", stored))
            #expect(try !accounts.create("111111", PasswordHasher.StoredHash(salt: [9], hash: [9], cost: Scrypt(n: 16, r: 8, p: 1))))
            // Seen from another worker's connection too.
            let other = try open()
            #expect(try other.storedHash(of: "111111") == stored)
            #expect(try other.storedHash(of: "222222") == nil)
            #expect(try other.exists("111111") && !other.exists("222222"))
        }
    }

    /// Resumption tickets: used once (then kept as used), not by another uid, left good but
    /// not used once expired, one good one a family, revoked by family (seen so by another
    /// connection at once, and no new one issued in it), no more than a few good ones per
    /// user, tombstones bounded in number and kept a while past their expiry.
    @Test(arguments: Backend.allCases) func ticketsAreGoodOnceRevokedByFamilyAndFewPerUser(_ backend: Backend) throws {
        try withAccounts(backend) { open in
            let accounts = try open()
            #expect(try accounts.create("111111", stored) && accounts.create("222222", stored) && accounts.create("333333", stored))
            let now: Int64 = 1_000_000
            let phone = "00000000000000f1", laptop = "00000000000000f2"
            func store(_ hash: String, _ uid: String = "111111", family: String, expires: Int64 = now + 60) throws -> Bool {
                try accounts.storeTicket(hash, uid: uid, family: family, salt: [1], expires: expires, forgetBefore: now - 60)
            }
            #expect(try store("h1", family: phone))
            #expect(try accounts.useTicket("h1", uid: "222222", now: now) == nil, "another uid's")
            #expect(try accounts.useTicket("h1", uid: "111111", now: now) == ResumptionTicket(family: phone, salt: [1], expires: now + 60, state: .good))
            #expect(try accounts.useTicket("h1", uid: "111111", now: now)?.state == .used, "good once, then a tombstone")
            #expect(try store("h2", family: phone))
            #expect(try accounts.useTicket("h2", uid: "111111", now: now + 61)?.state == .good, "expired: not used")
            #expect(try accounts.useTicket("h2", uid: "111111", now: now + 61)?.state == .good)
            #expect(try store("h3", family: phone))
            #expect(try accounts.useTicket("h2", uid: "111111", now: now)?.state == .superseded, "one good ticket a family")

            #expect(try store("h4", family: laptop))
            #expect(try accounts.revokeTickets(of: "111111", family: phone, now: now), "revoked now")
            #expect(try !accounts.revokeTickets(of: "111111", family: phone, now: now), "revoked already")
            let other = try open()
            #expect(try other.useTicket("h3", uid: "111111", now: now)?.state == .revoked, "the phone's revoked")
            #expect(try other.useTicket("h4", uid: "111111", now: now)?.state == .good, "the laptop's still good")
            #expect(try !store("h5", family: phone), "no new ticket in a revoked family")
            #expect(try accounts.useTicket("h5", uid: "111111", now: now) == nil)

            for index in 0..<12 {
                #expect(try store("many\(index)", "222222", family: String(format: "%016x", index), expires: now + 100 + Int64(index)))
            }
            let good = try (0..<12).filter { try accounts.useTicket("many\($0)", uid: "222222", now: now)?.state == .good }
            #expect(good == Array(4..<12), "the newest \(TicketLimits.ticketsKeptPerUser)")
            #expect(try accounts.useTicket("many0", uid: "222222", now: now)?.state == .superseded, "the older ones refused, not forgotten")

            // Tombstones: the newest few kept, the oldest forgotten.
            for index in 0..<(TicketLimits.tombstonesKeptPerUser + 8) {
                #expect(try store("used\(index)", "333333", family: laptop, expires: now + 100 + Int64(index)))
                _ = try accounts.useTicket("used\(index)", uid: "333333", now: now)
            }
            #expect(try store("last", "333333", family: laptop, expires: now + 1_000))
            #expect(try accounts.useTicket("used0", uid: "333333", now: now) == nil, "the oldest tombstone forgotten")
            #expect(try accounts.useTicket("used\(TicketLimits.tombstonesKeptPerUser + 7)", uid: "333333", now: now)?.state == .used)
        }
    }

    /// A ticket expired is remembered until `forgetBefore` passes its expiry: refused as its
    /// owner's, not taken for a guess, for that long.
    @Test(arguments: Backend.allCases) func expiredTicketsAreForgottenOnlyAfterAWhile(_ backend: Backend) throws {
        try withAccounts(backend) { open in
            let accounts = try open()
            #expect(try accounts.create("111111", stored))
            let now: Int64 = 1_000_000
            #expect(try accounts.storeTicket("old", uid: "111111", family: "00000000000000a1", salt: [1], expires: now, forgetBefore: now - 60))
            #expect(try accounts.storeTicket("a", uid: "111111", family: "00000000000000a2", salt: [1], expires: now + 60, forgetBefore: now - 1))
            #expect(try accounts.useTicket("old", uid: "111111", now: now + 30)?.state == .good, "expired, still known")
            #expect(try accounts.storeTicket("b", uid: "111111", family: "00000000000000a3", salt: [1], expires: now + 60, forgetBefore: now))
            #expect(try accounts.useTicket("old", uid: "111111", now: now + 30) == nil, "forgotten")
        }
    }

    /// Tickets from before families (SQLite's old `tickets` table, PostgreSQL's auth schema
    /// version 2) are forgotten at the upgrade; the accounts are kept, and tickets work after.
    @Test(arguments: Backend.allCases) func ticketsOfBeforeFamiliesAreForgottenAndAccountsKept(_ backend: Backend) throws {
        let now: Int64 = 1_000_000
        func expectUpgraded(_ accounts: any AccountRecords) throws {
            #expect(try accounts.storedHash(of: "111111") == stored, "the account kept")
            #expect(try accounts.useTicket("old", uid: "111111", now: now) == nil, "the old ticket forgotten")
            #expect(try accounts.storeTicket("new", uid: "111111", family: "0123456789abcdef", salt: [1], expires: now + 60, forgetBefore: now - 60))
            #expect(try accounts.useTicket("new", uid: "111111", now: now)?.state == .good)
        }
        switch backend {
        case .sqlite:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("accounts-\(UUID().uuidString).sqlite").path
            defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
            #expect(try AccountStore(path: path).create("111111", stored))
            let database = try Database(path: path, create: false)
            try database.execute("DROP TABLE tickets; CREATE TABLE tickets (hash TEXT PRIMARY KEY, uid TEXT NOT NULL, salt BLOB NOT NULL, expires INTEGER NOT NULL)")
            try database.prepare("INSERT INTO tickets VALUES ('old', '111111', x'01', ?)").bind(.integer(now + 60)).run()
            try expectUpgraded(try AccountStore(path: path))
        case .postgres:
            let url = try Self.postgres.get().newDatabase()
            #expect(try PostgresAccountStore(url: url).create("111111", stored))
            let connection = try PostgresConnection(url: url)
            try connection.execute("""
                DROP TABLE chat_tickets;
                CREATE TABLE chat_tickets (hash text PRIMARY KEY, uid text NOT NULL, salt bytea NOT NULL, expires bigint NOT NULL);
                UPDATE chat_schema SET version = 2 WHERE component = 'auth';
                """)
            try connection.query("INSERT INTO chat_tickets VALUES ('old', '111111', '\\x01', $1)", [.integer(now + 60)])
            try expectUpgraded(try PostgresAccountStore(url: url))
            #expect(try connection.query("SELECT version FROM chat_schema WHERE component = 'auth'").integer(0, 0) == 4)
        }
    }

    /// A database at auth schema version 3 (families, no revoked-family table) gets the
    /// table at version 4, and revocations work.
    @Test func version3GetsTheRevokedFamiliesTable() throws {
        let url = try Self.postgres.get().newDatabase()
        #expect(try PostgresAccountStore(url: url).create("111111", stored))
        let connection = try PostgresConnection(url: url)
        try connection.execute("DROP TABLE chat_revoked_ticket_families; UPDATE chat_schema SET version = 3 WHERE component = 'auth'")
        let accounts = try PostgresAccountStore(url: url)
        #expect(try accounts.revokeTickets(of: "111111", family: "0123456789abcdef", now: 1_000))
        #expect(try !accounts.storeTicket("t", uid: "111111", family: "0123456789abcdef", salt: [1], expires: 2_000, forgetBefore: 0))
        #expect(try connection.query("SELECT version FROM chat_schema WHERE component = 'auth'").integer(0, 0) == 4)
    }

    @Test(arguments: Backend.allCases) func friendsAreAddedOnceAndListedInOrder(_ backend: Backend) throws {
        try withAccounts(backend) { open in
            let accounts = try open()
            #expect(try accounts.addFriend(owner: "111111", friend: "333333"))
            #expect(try accounts.addFriend(owner: "111111", friend: "222222"))
            #expect(try !accounts.addFriend(owner: "111111", friend: "333333"))
            #expect(try accounts.friends(of: "111111") == ["222222", "333333"])
            #expect(try accounts.friends(of: "222222").isEmpty)
        }
    }

    @Test(arguments: Backend.allCases) func reservationsCountUntilReleasedAndSurviveARestart(_ backend: Backend) throws {
        try withAccounts(backend) { open in
            let quota = StorageQuota(maxBytesPerUser: 1_000)
            do {
                let accounts = try open()
                #expect(try accounts.storedBytes(of: "111111") == 0)
                #expect(try accounts.reserveStorage(700, for: "111111", within: quota))
                #expect(try !accounts.reserveStorage(301, for: "111111", within: quota))
                #expect(try accounts.storedBytes(of: "111111") == 700, "a refused reservation counts nothing")
                #expect(try accounts.reserveStorage(1_000, for: "222222", within: quota))
                #expect(throws: NegativeByteCount.self) { try accounts.reserveStorage(-5, for: "111111", within: quota) }
                #expect(throws: NegativeByteCount.self) { try accounts.releaseStorage(-5, for: "111111") }
            }
            let reopened = try open()
            #expect(try reopened.storedBytes(of: "111111") == 700)
            try reopened.releaseStorage(700, for: "111111")
            #expect(try reopened.storedBytes(of: "111111") == 0)
            #expect(try reopened.reserveStorage(1_000, for: "111111", within: quota))
        }
    }

    /// Two auth workers reserving for one user at once: the quota holds (row locks), exactly
    /// as many reservations pass as fit.
    @Test func workersReservingAtOnceNeverPassTheQuota() throws {
        try withAccounts(.postgres) { open in
            let quota = StorageQuota(maxBytesPerUser: 500)
            let passed = Mutex(0)
            let workers = Workers(try (0..<2).map { _ in try open() })
            DispatchQueue.concurrentPerform(iterations: 2) { index in
                for _ in 0..<40 {
                    if (try? workers.each[index].reserveStorage(10, for: "111111", within: quota)) == true {
                        passed.withLock { $0 += 1 }
                    }
                }
            }
            #expect(passed.withLock { $0 } == 50)
            #expect(try workers.each[0].storedBytes(of: "111111") == 500)
        }
    }
}

/// Each worker's accounts, one per thread.
///
/// Unchecked: thread `i` touches only `each[i]`.
private final class Workers: @unchecked Sendable {
    let each: [any AccountRecords]
    init(_ each: [any AccountRecords]) { self.each = each }
}
