@testable import ChatRouter
import Testing

@Suite struct PresenceResyncTests {
    let gatewayA = Array("gw-a".utf8), gatewayB = Array("gw-b".utf8)
    let second: UInt64 = 1_000_000_000
    let start: UInt64 = 100_000_000_000

    /// A router started at `start`, with `gatewayA` synced: presence whole.
    private func settled() -> PresenceResync {
        var resync = PresenceResync(startedAt: start, bound: 2 * second)
        resync.heard(fromUnsynced: gatewayA, now: start + second / 2)
        resync.synced(gatewayA)
        return resync
    }

    @Test func anOnlineRecipientIsAlwaysDeliveredTo() {
        let resync = PresenceResync(startedAt: start, bound: 2 * second)
        #expect(resync.verdict(recipientOnline: true, now: start) == .deliver)
    }

    @Test func afterAStartAbsentRecipientsAreHeldUntilTheFirstSyncAndAHeartbeat() {
        var resync = PresenceResync(startedAt: start, bound: 2 * second)
        #expect(resync.verdict(recipientOnline: false, now: start + second) == .hold)
        resync.heard(fromUnsynced: gatewayA, now: start + second)
        resync.synced(gatewayA)
        #expect(resync.verdict(recipientOnline: false, now: start + second) == .hold)
        #expect(resync.verdict(recipientOnline: false, now: start + PresenceResync.heartbeatWindow) == .answerOffline)
    }

    /// Two gateways: the first syncs at once, the second's heartbeat comes later in the first
    /// second. Its users are not called offline in between.
    @Test func afterAStartAGatewayHeardAfterTheFirstSyncIsWaitedFor() {
        var resync = PresenceResync(startedAt: start, bound: 2 * second)
        resync.heard(fromUnsynced: gatewayA, now: start + second / 10)
        resync.synced(gatewayA)
        #expect(resync.verdict(recipientOnline: false, now: start + second / 2) == .hold)
        resync.heard(fromUnsynced: gatewayB, now: start + 9 * second / 10)
        #expect(resync.verdict(recipientOnline: false, now: start + 16 * second / 10) == .hold)
        resync.synced(gatewayB)
        #expect(resync.verdict(recipientOnline: false, now: start + 16 * second / 10) == .answerOffline)
    }

    @Test func afterAStartWithNoGatewayTheBoundEndsTheWait() {
        let resync = PresenceResync(startedAt: start, bound: 2 * second)
        #expect(resync.verdict(recipientOnline: false, now: start + 2 * second - 1) == .hold)
        #expect(resync.verdict(recipientOnline: false, now: start + 2 * second) == .answerOffline)
    }

    @Test func settledPresenceAnswersOfflineAtOnce() {
        #expect(settled().verdict(recipientOnline: false, now: start + 10 * second) == .answerOffline)
    }

    /// The split: a gateway taken for dead comes back; until its presence is resent a
    /// recipient not found may be one of its users.
    @Test func aGatewayBackAfterASplitHoldsUntilItsSync() {
        var resync = settled()
        let back = start + 20 * second
        resync.heard(fromUnsynced: gatewayB, now: back)
        #expect(resync.verdict(recipientOnline: false, now: back + second) == .hold)
        resync.synced(gatewayB)
        #expect(resync.verdict(recipientOnline: false, now: back + second) == .answerOffline)
    }

    @Test func aGatewayThatNeverSyncsHoldsOnlyForTheBound() {
        var resync = settled()
        let back = start + 20 * second
        resync.heard(fromUnsynced: gatewayB, now: back)
        #expect(resync.verdict(recipientOnline: false, now: back + 2 * second) == .answerOffline)
        // Its later heartbeats do not start the wait again.
        resync.heard(fromUnsynced: gatewayB, now: back + 3 * second)
        #expect(resync.verdict(recipientOnline: false, now: back + 3 * second) == .answerOffline)
    }

    @Test func aGatewayTakenForDeadIsNotWaitedFor() {
        var resync = settled()
        let back = start + 20 * second
        resync.heard(fromUnsynced: gatewayB, now: back)
        resync.forget(gatewayB)
        #expect(resync.verdict(recipientOnline: false, now: back) == .answerOffline)
        // Back once more: waited for afresh.
        resync.heard(fromUnsynced: gatewayB, now: back + 10 * second)
        #expect(resync.verdict(recipientOnline: false, now: back + 10 * second) == .hold)
    }

    @Test func eachResyncingGatewayIsWaitedForUntilItsOwnSync() {
        var resync = settled()
        let back = start + 20 * second
        resync.heard(fromUnsynced: gatewayA, now: back)
        resync.heard(fromUnsynced: gatewayB, now: back)
        resync.synced(gatewayA)
        #expect(resync.verdict(recipientOnline: false, now: back) == .hold)
        resync.synced(gatewayB)
        #expect(resync.verdict(recipientOnline: false, now: back) == .answerOffline)
    }

    @Test func theBoundStaysWithinTheRequestTimeout() {
        #expect(PresenceResync.bound(requestTimeoutMilliseconds: 5_000) == 2_500_000_000)
        #expect(PresenceResync.bound(requestTimeoutMilliseconds: 2_000) == 1_500_000_000)
        #expect(PresenceResync.bound(requestTimeoutMilliseconds: 10) == 7_500_000)
    }
}
