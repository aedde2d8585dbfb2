@testable import ChatAuth
import ChatCrypto
import ChatTestSupport
import Foundation
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

    /// Resumption tickets: taken once, not by another uid, not once expired, gone when revoked,
    /// and no more than a few per user however often they are asked for.
    @Test(arguments: Backend.allCases) func ticketsAreGoodOnceAndFewPerUser(_ backend: Backend) throws {
        try withAccounts(backend) { open in
            let accounts = try open()
            let now: Int64 = 1_000_000
            try accounts.storeTicket("h1", uid: "111111", salt: [1], expires: now + 60, now: now)
            #expect(try accounts.takeTicket("h1", uid: "222222", now: now) == nil, "another uid's")
            #expect(try accounts.takeTicket("h1", uid: "111111", now: now) == [1])
            #expect(try accounts.takeTicket("h1", uid: "111111", now: now) == nil, "good once")
            try accounts.storeTicket("h2", uid: "111111", salt: [1], expires: now + 60, now: now)
            #expect(try accounts.takeTicket("h2", uid: "111111", now: now + 61) == nil, "expired")
            try accounts.storeTicket("h3", uid: "111111", salt: [1], expires: now + 60, now: now)
            try accounts.revokeTickets(of: "111111")
            #expect(try accounts.takeTicket("h3", uid: "111111", now: now) == nil, "revoked")
            for index in 0..<12 {
                try accounts.storeTicket("many\(index)", uid: "111111", salt: [1], expires: now + 100 + Int64(index), now: now)
            }
            let kept = try (0..<12).filter { try accounts.takeTicket("many\($0)", uid: "111111", now: now) != nil }
            #expect(kept == Array(4..<12), "the newest \(AccountStore.ticketsKeptPerUser)")
        }
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
