import ChatTestSupport
import Foundation
import Testing

/// One accepted peer-to-peer introduction, as the two users' connections saw it.
struct AcceptedTransfer {
    let token: String
    /// Each side's own key, from the one message only that side received.
    let senderKey: String
    let receiverKey: String
    /// The two users' chat connections, kept open for as long as the test holds this.
    let sender: TestClient
    let receiver: TestClient

    static let sha = String(repeating: "ab", count: 32)

    /// A new user offers another `size` bytes, and the other accepts.
    static func make(on system: ChatSystem, size: Int) throws -> AcceptedTransfer {
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        let offered = try alice.ask("\(a) p2p offer \(b) \(size) \(sha) 127.0.0.1:5000 f.bin")
        guard offered.hasPrefix("p2p offered ") else { throw TestClient.Failure(description: "offer: \(offered)") }
        let token = String(offered.dropFirst("p2p offered ".count))
        _ = try bob.readLine() // the offer's push
        // `p2p connect <token> <public> <private> <key>`, and to the offerer
        // `<b> to <a> p2p connect <token> <public> <private> <key>`.
        let reply = try bob.ask("\(b) p2p accept \(token) 127.0.0.1:6000").split(separator: " ")
        let push = try alice.readLine().split(separator: " ")
        guard reply.count == 6, push.count == 9, reply[2] == token, push[5] == token else {
            throw TestClient.Failure(description: "accept: \(reply) / \(push)")
        }
        return AcceptedTransfer(token: token, senderKey: String(push[8]), receiverKey: String(reply[5]), sender: alice, receiver: bob)
    }

    /// A new connection that presents `key` for this transfer's relay.
    func present(_ key: String, on system: ChatSystem) throws -> TestClient {
        let client = try TestClient(port: system.port)
        try client.sendLine("p2p relay \(token) \(key)")
        return client
    }

    /// Both sides' relay connections, spliced.
    func splice(on system: ChatSystem) throws -> (sender: TestClient, receiver: TestClient) {
        let sending = try present(senderKey, on: system)
        let receiving = try present(receiverKey, on: system)
        try receiving.readLine().ensure("p2p relay ready")
        try sending.readLine().ensure("p2p relay ready")
        return (sending, receiving)
    }
}

/// The relay serves the two accepted sides of one transfer, once each, for that transfer's bytes.
@Suite struct RelayAbuseTests {
    let system = ChatSystem.shared

    @Test func onlyTheTwoSidesKeysOpenTheRelayAndOnlyOnce() throws {
        let transfer = try AcceptedTransfer.make(on: system, size: 100)
        let other = try AcceptedTransfer.make(on: system, size: 100)
        // Knowing the token (both peers do) is not enough, nor is another transfer's key.
        for key in [nil, transfer.token, other.senderKey, other.receiverKey] {
            let stranger = try TestClient(port: system.port)
            #expect(try stranger.ask("p2p relay \(transfer.token)" + (key.map { " \($0)" } ?? "")) == "No such transfer")
        }
        let (sending, receiving) = try transfer.splice(on: system)
        // Spent: a third presenter gets nothing, whichever key it has.
        for key in [transfer.senderKey, transfer.receiverKey] {
            let third = try TestClient(port: system.port)
            #expect(try third.ask("p2p relay \(transfer.token) \(key)") == "No such transfer")
        }
        // The pair itself is unharmed.
        try sending.sendLine("P2P \(transfer.token)")
        #expect(try receiving.readLine() == "P2P \(transfer.token)")
    }

    @Test func theSameSideCannotBePresentedTwiceAtOnce() throws {
        let transfer = try AcceptedTransfer.make(on: system, size: 100)
        let first = try transfer.present(transfer.senderKey, on: system)
        let second = try transfer.present(transfer.senderKey, on: system)
        // Whichever the router saw second is refused; the other waits for its partner.
        try waitUntil("one of the two to be answered", timeout: .seconds(10)) {
            first.hasData(within: 0.01) || second.hasData(within: 0.01)
        }
        let (refused, waiting) = first.hasData(within: 0) ? (first, second) : (second, first)
        #expect(try refused.readLine() == "No such transfer")
        #expect(try transfer.present(transfer.receiverKey, on: system).readLine() == "p2p relay ready")
        #expect(try waiting.readLine() == "p2p relay ready")
        #expect(refused.staysQuiet(for: 0.3))
    }

    @Test func aRelayPastItsOfferedSizeAndMarginIsClosedOnBothSides() throws {
        let transfer = try AcceptedTransfer.make(on: system, size: 1000)
        let (sending, receiving) = try transfer.splice(on: system)
        // The offered 1000 bytes, 64 KiB and 1% go through...
        let cap = 1000 + 10 + 65_536
        try sending.send([UInt8](repeating: 0x61, count: cap))
        #expect(try receiving.read(count: cap).count == cap)
        #expect(receiving.staysQuiet(for: 0.2))
        // ...and one byte more closes both.
        try sending.send([0x62])
        #expect(sending.isClosedByServer(within: 10))
        #expect(receiving.isClosedByServer(within: 10))
    }
}

/// Offers per user are limited in rate and in number alive; relays idle out.
@Suite struct OfferLimitTests {
    /// A system of its own, with low limits: 3 offers a minute, 2 alive per user, relays idle after 1 s.
    private func withSystem(_ body: (ChatSystem) throws -> Void) throws {
        let system = try ChatSystem(settings: ["router.p2p_offers_per_minute=3", "router.p2p_max_live_offers_per_user=2",
                                               "gateway.relay_idle_timeout_seconds=1"])
        defer { system.stop(); system.removeData() }
        try body(system)
    }

    private func offer(from client: TestClient, _ uid: String, to peer: String) throws -> String {
        try client.ask("\(uid) p2p offer \(peer) 10 \(AcceptedTransfer.sha) 127.0.0.1:5000 f.bin")
    }

    @Test func offersOverTheRateGetTheirOwnReplyAndIntroduceNothing() throws {
        try withSystem { system in
            let (alice, a) = try system.signedInUser()
            let (bob, b) = try system.signedInUser()
            // Each offer declined at once, so only the rate counts.
            for _ in 0..<3 {
                let offered = try offer(from: alice, a, to: b)
                #expect(offered.hasPrefix("p2p offered "))
                let token = String(offered.dropFirst("p2p offered ".count))
                #expect(try bob.readLine() == "\(a) to \(b) p2p offer \(token) 10 \(AcceptedTransfer.sha) f.bin")
                #expect(try bob.ask("\(b) p2p decline \(token)") == "ok")
                _ = try alice.readLine() // the decline's push
            }
            #expect(try offer(from: alice, a, to: b) == "Too many offers, try again later")
            #expect(bob.staysQuiet(for: 0.3))
            // Another user's offers are their own.
            let (carol, c) = try system.signedInUser()
            #expect(try offer(from: carol, c, to: b).hasPrefix("p2p offered "))
        }
    }

    @Test func liveOffersPerUserAreBounded() throws {
        try withSystem { system in
            let (alice, a) = try system.signedInUser()
            let (bob, b) = try system.signedInUser()
            #expect(try offer(from: alice, a, to: b).hasPrefix("p2p offered "))
            #expect(try offer(from: alice, a, to: b).hasPrefix("p2p offered "))
            // Within the rate (3 a minute), but two offers are waiting for an answer already.
            #expect(try offer(from: alice, a, to: b) == "Too many offers, try again later")
            _ = try bob.readLine()
            _ = try bob.readLine()
            #expect(bob.staysQuiet(for: 0.3))
        }
    }

    @Test func aRelayThatCarriesNothingIsClosedOnBothSides() throws {
        try withSystem { system in
            let transfer = try AcceptedTransfer.make(on: system, size: 100)
            let (sending, receiving) = try transfer.splice(on: system)
            // An idle timeout of 1 s closes it after 1 to 2 s of silence.
            #expect(sending.isClosedByServer(within: 15))
            #expect(receiving.isClosedByServer(within: 15))
        }
    }
}
