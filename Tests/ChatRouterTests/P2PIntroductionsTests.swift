@testable import ChatRouter
import Testing

/// (The `#expect` macro cannot call a mutating method, so each step's outcome is taken first.)
@Suite struct P2PIntroductionsTests {
    private func transfer(from sender: String = "111111", size: Int64 = 1000, created: UInt64 = 0) -> P2PIntroductions.Transfer {
        .init(sender: sender, receiver: "222222", senderPublic: "203.0.113.1:40000", senderPrivate: "192.168.1.2:40000",
              size: size, created: created)
    }

    /// An introduction of 111111 to 222222, accepted: its token and the two sides' keys.
    private func accepted(_ introductions: inout P2PIntroductions, size: Int64 = 1000) throws -> (String, P2PIntroductions.RelayKeys) {
        let added = introductions.add(transfer(size: size))
        let token = try #require(added)
        let keys = introductions.accept(token, by: "222222")
        return (token, try #require(keys))
    }

    @Test func onlyTheOneOfferedToMayAcceptAndOnlyOnce() throws {
        var introductions = P2PIntroductions()
        let added = introductions.add(transfer())
        let token = try #require(added)
        let byStranger = introductions.accept(token, by: "333333"), bySender = introductions.accept(token, by: "111111")
        #expect(byStranger == nil && bySender == nil)
        let accepted = introductions.accept(token, by: "222222")
        let keys = try #require(accepted)
        #expect(keys.sender != keys.receiver && keys.sender != token && keys.receiver != token)
        #expect(keys.sender.utf8.count == 32 && keys.receiver.utf8.count == 32)
        let again = introductions.accept(token, by: "222222")
        #expect(again == nil)
    }

    @Test func noRelayBeforeAcceptance() throws {
        var introductions = P2PIntroductions()
        let added = introductions.add(transfer())
        let token = try #require(added)
        let withToken = introductions.claimRelay(token, key: token), withNothing = introductions.claimRelay(token, key: "")
        #expect(withToken == nil && withNothing == nil)
    }

    @Test func eachSideIsGrantedOnceOnItsOwnKeyThenTheTokenIsSpent() throws {
        var introductions = P2PIntroductions()
        let (token, keys) = try accepted(&introductions, size: 4242)
        // The token itself, known to both peers, is no key; nor is a near miss.
        let withToken = introductions.claimRelay(token, key: token)
        let nearMiss = introductions.claimRelay(token, key: String(keys.sender.dropLast()) + "x")
        #expect(withToken == nil && nearMiss == nil)
        let sender = introductions.claimRelay(token, key: keys.sender)
        #expect(sender == 4242)
        // The same side a second time, while its first connection waits: refused.
        let senderAgain = introductions.claimRelay(token, key: keys.sender)
        #expect(senderAgain == nil)
        #expect(introductions.transfers[token] != nil)
        let receiver = introductions.claimRelay(token, key: keys.receiver)
        #expect(receiver == 4242)
        // Both sides paired: spent, for either key.
        #expect(introductions.transfers[token] == nil)
        let receiverAfter = introductions.claimRelay(token, key: keys.receiver), senderAfter = introductions.claimRelay(token, key: keys.sender)
        #expect(receiverAfter == nil && senderAfter == nil)
    }

    @Test func aKeyOpensOnlyItsOwnTransfer() throws {
        var introductions = P2PIntroductions()
        let (first, firstKeys) = try accepted(&introductions)
        let (second, _) = try accepted(&introductions)
        let onSecond = introductions.claimRelay(second, key: firstKeys.sender)
        let onFirst = introductions.claimRelay(first, key: firstKeys.sender)
        #expect(onSecond == nil && onFirst == 1000)
    }

    @Test func liveIntroductionsAreBoundedPerSenderAndInAll() throws {
        var introductions = P2PIntroductions(limits: .init(perSender: 2, total: 3))
        let first = introductions.add(transfer(from: "111111")), second = introductions.add(transfer(from: "111111"))
        let third = introductions.add(transfer(from: "111111"))
        #expect(first != nil && second != nil && third == nil)
        let other = introductions.add(transfer(from: "333333"))
        #expect(other != nil)
        // The table is full, whoever offers.
        let overTotal = introductions.add(transfer(from: "444444"))
        #expect(overTotal == nil)
        introductions.remove(try #require(first))
        #expect(introductions.liveBySender["111111"] == 1)
        let afterRemoval = introductions.add(transfer(from: "111111"))
        #expect(afterRemoval != nil)
        #expect(introductions.transfers.count == 3)
    }

    @Test func anAcceptedIntroductionFreesItsSendersRoomOnce() throws {
        var introductions = P2PIntroductions(limits: .init(perSender: 1, total: 10))
        let waiting = introductions.add(transfer())
        let token = try #require(waiting)
        let second = introductions.add(transfer())
        #expect(second == nil, "one unanswered offer at a time")
        // The receiver wanted it: the sender may offer again while the peers connect.
        let accepted = introductions.accept(token, by: "222222")
        let keys = try #require(accepted)
        #expect(introductions.liveBySender["111111"] == nil)
        let fresh = introductions.add(transfer(created: 5))
        let freshToken = try #require(fresh)
        // The accepted one ending (spent here) gives nothing back twice.
        _ = introductions.claimRelay(token, key: keys.sender)
        _ = introductions.claimRelay(token, key: keys.receiver)
        #expect(introductions.liveBySender["111111"] == 1)
        introductions.expire(now: 5 + P2PIntroductions.lifetimeNanos - 1)
        #expect(introductions.transfers.keys.sorted() == [freshToken])
        introductions.expire(now: 5 + P2PIntroductions.lifetimeNanos)
        #expect(introductions.transfers.isEmpty && introductions.liveBySender.isEmpty)
    }

    @Test func keysCompareWholly() {
        #expect(P2PIntroductions.sameKey("abcd", "abcd"))
        #expect(!P2PIntroductions.sameKey("abcd", "abce"))
        #expect(!P2PIntroductions.sameKey("abc", "abcd"))
        #expect(!P2PIntroductions.sameKey("", "abcd"))
    }

    /// The receiver goes offline: its unanswered offers are withdrawn (each sender named, its
    /// place freed); an accepted one stays, and nothing is withdrawn twice.
    @Test func aReceiverGoingOfflineWithdrawsTheOffersItHadNotAnswered() throws {
        var introductions = P2PIntroductions(limits: .init(perSender: 2, total: 100))
        let first = introductions.add(transfer(from: "111111")), second = introductions.add(transfer(from: "333333"))
        let (acceptedToken, _) = try accepted(&introductions)
        let withdrawn = introductions.withdrawOffers(to: "222222")
        #expect(Set(withdrawn.map(\.token)) == Set([try #require(first), try #require(second)]))
        #expect(Set(withdrawn.map(\.sender)) == ["111111", "333333"])
        #expect(introductions.transfers[acceptedToken] != nil, "accepted: the peers may be connected already")
        #expect(introductions.offered(try #require(first), to: "222222") == nil)
        #expect(introductions.liveBySender["111111"] == nil)
        let again = introductions.withdrawOffers(to: "222222")
        #expect(again.isEmpty)
    }
}
