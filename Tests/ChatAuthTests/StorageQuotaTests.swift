@testable import ChatAuth
import Foundation
import Testing

@Suite struct StorageQuotaTests {
    @Test func anUploadFitsUpToTheQuotaExactly() {
        let quota = StorageQuota(maxBytesPerUser: 1_000)
        #expect(quota.total(adding: 600, to: 0) == 600)
        #expect(quota.total(adding: 400, to: 600) == 1_000)
        #expect(quota.total(adding: 401, to: 600) == nil)
        #expect(quota.total(adding: 1, to: 1_000) == nil)
        #expect(quota.total(adding: 0, to: 1_000) == 1_000)
    }

    @Test func aLoweredQuotaRefusesMoreOfAUserAlreadyPastIt() {
        // Stored before the quota was lowered: nothing more, but nothing is taken away.
        #expect(StorageQuota(maxBytesPerUser: 100).total(adding: 1, to: 500) == nil)
    }

    @Test func hugeSizesNeitherOverflowNorSlipThrough() {
        #expect(StorageQuota(maxBytesPerUser: 1_000).total(adding: .max, to: 10) == nil)
        #expect(StorageQuota(maxBytesPerUser: 0).total(adding: .max, to: 10) == .max)
    }

    @Test func zeroMeansNoLimit() {
        #expect(StorageQuota(maxBytesPerUser: 0).total(adding: 1 << 50, to: 1 << 50) == 1 << 51)
    }

    @Test func aReleaseNeverLeavesCredit() {
        #expect(StorageQuota.total(releasing: 300, from: 1_000) == 700)
        #expect(StorageQuota.total(releasing: 300, from: 100) == 0)
    }
}

/// The quota as auth keeps it: in the accounts file, across reopening.
@Suite struct AccountStoreStoredBytesTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("accounts-\(UUID().uuidString).sqlite").path

    @Test func reservationsCountUntilReleasedAndSurviveARestart() throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let quota = StorageQuota(maxBytesPerUser: 1_000)
        do {
            let store = try AccountStore(path: path)
            #expect(try store.storedBytes(of: "111111") == 0)
            #expect(try store.reserveStorage(700, for: "111111", within: quota))
            #expect(try !store.reserveStorage(301, for: "111111", within: quota))
            #expect(try store.storedBytes(of: "111111") == 700, "a refused reservation counts nothing")
            // Another user's quota is their own.
            #expect(try store.reserveStorage(1_000, for: "222222", within: quota))
        }
        let reopened = try AccountStore(path: path)
        #expect(try reopened.storedBytes(of: "111111") == 700)
        try reopened.releaseStorage(700, for: "111111")
        #expect(try reopened.storedBytes(of: "111111") == 0)
        #expect(try reopened.reserveStorage(1_000, for: "111111", within: quota))
        #expect(try reopened.storedBytes(of: "222222") == 1_000)
    }

    @Test func negativeCountsFromTheBusAreRefused() throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try AccountStore(path: path)
        #expect(throws: NegativeByteCount.self) { try store.reserveStorage(-5, for: "111111", within: StorageQuota(maxBytesPerUser: 0)) }
        #expect(throws: NegativeByteCount.self) { try store.releaseStorage(-5, for: "111111") }
        #expect(try store.storedBytes(of: "111111") == 0)
    }
}
