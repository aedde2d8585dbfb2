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
