import ChatBus
import ChatProtocol
import ChatRuntime
import Foundation
import Logging

/// The router: online presence and every delivery decision.
///
/// A text comes from the storage worker that made it durable (`deliverStored`): the router
/// pushes it if the recipient is online and answers the gateway's request itself. Presence is
/// rebuilt after a restart from the gateways, which resend who is signed in when the router
/// does not recognise their heartbeat; until they have (`PresenceResync`), and likewise for a
/// gateway back after being taken for dead, a text to a recipient not found is held, not
/// answered `Target user offline`.
///
/// Unchecked: its mutable state is set up in `run` before the loop starts, then touched on the
/// loop's thread only; `stop()`, called from another thread, only stops the (thread-safe) loop.
public final class RouterService: @unchecked Sendable {
    private let configuration: ChatConfiguration
    private let logger: Logger
    private let loop: BusLoop
    private let instance = UInt64.random(in: 1...UInt64.max)

    private var gatewaySocket: BusLoop.SocketID!
    private var authWorkers: AuthWorkers!

    private var presence = PresenceTable()
    private var introductions: P2PIntroductions
    private var offerRate: OfferRateLimiter
    private var resync: PresenceResync
    /// Stored texts and voice or file messages whose recipient was not found while some
    /// presence was still missing.
    private var heldDeliveries: [Delivery] = []
    private var lastGatewayId = ""
    private var lastGatewayIdentity: [UInt8] = []
    private var gatewayLastSeen: [[UInt8]: UInt64] = [:]
    /// Gateways that sent their full presence since this router started.
    private var syncedGateways: Set<[UInt8]> = []
    private var knownUsers: KnownUsers!
    private let metrics = RouterMetrics()

    /// A gateway silent this long is taken for dead and its users for offline.
    private let gatewayTimeoutNanos: UInt64 = 5_000_000_000

    /// `security`: the bus's (`BusSecurity.load`).
    public init(configuration: ChatConfiguration, security: BusSecurity, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        loop = BusLoop(requestTimeout: .milliseconds(configuration.requestTimeoutMilliseconds),
                       failFastAfter: .milliseconds(configuration.failFastAfterMilliseconds), security: security, logger: logger)
        introductions = P2PIntroductions(limits: .init(perSender: configuration.p2pMaxLiveOffersPerUser,
                                                       total: configuration.p2pMaxLiveOffers))
        offerRate = OfferRateLimiter(perMinute: configuration.p2pOffersPerMinute)
        resync = PresenceResync(startedAt: DispatchTime.now().uptimeNanoseconds,
                                bound: PresenceResync.bound(requestTimeoutMilliseconds: configuration.requestTimeoutMilliseconds))
    }

    public func run() throws {
        gatewaySocket = try loop.bindRouter(configuration.routerEndpoint)
        authWorkers = try AuthWorkers(loop: loop, endpoints: configuration.authEndpoints)
        knownUsers = KnownUsers(loop: loop, auth: authWorkers)
        loop.every(.seconds(1)) { [weak self] in
            self?.dropSilentGateways()
            self?.expireIntroductions()
        }
        // Often enough that a held text is answered soon after its bound, well within the
        // gateway's timeout; a look at an empty list when nothing is held.
        loop.every(.milliseconds(100)) { [weak self] in self?.releaseHeldDeliveries() }
        // A gateway the socket can no longer route to has gone: its users are offline.
        loop.onUnroutablePeer = { [weak self] _, gateway in self?.forgetGateway(gateway) }
        logger.info("router ready", metadata: ["bus.endpoint": "\(configuration.routerEndpoint)", "router.instance": "\(instance)"])
        loop.run(handler: handle)
    }

    /// Takes the offer limits of a reload, on the loop's thread.
    public func apply(_ configuration: ChatConfiguration) {
        loop.execute {
            self.introductions.limits = .init(perSender: configuration.p2pMaxLiveOffersPerUser, total: configuration.p2pMaxLiveOffers)
            self.offerRate.change(perMinute: configuration.p2pOffersPerMinute)
        }
    }

    public func stop() { loop.stop() }

    private func handle(_ incoming: BusIncoming) {
        guard let gateway = incoming.peer else { return }
        // Storage workers write here too (`deliverStored`); only gateways are watched for liveness.
        if case .deliverStored = incoming.message {} else {
            let now = DispatchTime.now().uptimeNanoseconds
            gatewayLastSeen[gateway] = now
            // New, or back after being taken for dead: its users are unknown until it syncs.
            if !syncedGateways.contains(gateway) { resync.heard(fromUnsynced: gateway, now: now) }
        }
        switch incoming.message {
        case .gatewayHello:
            loop.reply(to: incoming, with: .routerWelcome(routerInstance: instance, needsSync: !syncedGateways.contains(gateway)))
        case .presenceSync(let entries):
            presence.removeGateway(gateway)
            for entry in entries { attach(entry, on: gateway) }
            syncedGateways.insert(gateway)
            resync.synced(gateway)
            releaseHeldDeliveries()
            logger.info("gateway presence synced", metadata: ["router.gateway": "\(String(decoding: gateway, as: UTF8.self))", "router.sessions": "\(entries.count)"])
            loop.reply(to: incoming, with: .attached)
        case .attach(let entry):
            attach(entry, on: gateway)
            // A held text for this user goes now, ahead of any sent after the sign-in.
            releaseHeldDeliveries()
            loop.reply(to: incoming, with: .attached)
        case .detach(let uid, let connection):
            presence.detach(uid: uid, connection: connection, on: gateway)
            if presence.location(of: uid) == nil { withdrawOffers(to: uid) }
        case .deliverStored(let to, let record, let gatewayId, let requestId):
            deliverOrHold(Delivery(to: to, record: record, gateway: identity(of: gatewayId), requestId: requestId, isText: true))
        case .announce(_, let to, let record):
            // A stored voice or file message, announced by the gateway: held like a text.
            deliverOrHold(Delivery(to: to, record: record, gateway: gateway, requestId: incoming.envelope.requestId, isText: false))
        case .notify(let to, let bytes):
            if let location = presence.location(of: to) { push(bytes, to: location) }
        case .p2pOffer(let from, let to, let size, let sha256, let name, let privateEndpoint):
            offer(from: from, to: to, size: size, sha256: sha256, name: name, privateEndpoint: privateEndpoint, replyingTo: incoming)
        case .p2pAccept(let by, let token, let privateEndpoint):
            // `accept` comes last: it hands out the keys, once, only when both sides are online.
            guard let transfer = introductions.offered(token, to: by),
                  let receiver = presence.location(of: by), let sender = presence.location(of: transfer.sender),
                  let keys = introductions.accept(token, by: by) else {
                return loop.reply(to: incoming, with: .p2pUnknown)
            }
            // Each side's relay key goes in the one message only that side receives.
            push(Push.p2pConnect(from: by, to: transfer.sender, token: token, peerPublic: receiver.entry.publicAddress,
                                 peerPrivate: privateEndpoint, relayKey: keys.sender).bytes, to: sender)
            loop.reply(to: incoming, with: .p2pConnect(token: token, peerPublic: transfer.senderPublic, peerPrivate: transfer.senderPrivate,
                                                       relayKey: keys.receiver))
        case .p2pDecline(let by, let token):
            guard let transfer = introductions.offered(token, to: by) else { return loop.reply(to: incoming, with: .p2pUnknown) }
            introductions.remove(token)
            if let sender = presence.location(of: transfer.sender) {
                push(Push.p2pDeclined(from: by, to: transfer.sender, token: token).bytes, to: sender)
            }
            loop.reply(to: incoming, with: .p2pDeclined)
        case .p2pRelayCheck(let token, let key):
            guard let size = introductions.claimRelay(token, key: key) else { return loop.reply(to: incoming, with: .p2pUnknown) }
            loop.reply(to: incoming, with: .p2pRelayAllowed(offeredSize: size))
        case .queryPresence(let uids):
            loop.reply(to: incoming, with: .presence(uids.map { presence.location(of: $0) != nil }))
        default:
            loop.reply(to: incoming, with: .failure("router does not handle \(incoming.message.kind)"))
        }
    }

    /// `uid` went offline: whoever offered them a transfer they had not answered is told it was
    /// declined, rather than waiting for an answer that cannot come.
    private func withdrawOffers(to uid: String) {
        for (token, sender) in introductions.withdrawOffers(to: uid) {
            guard let location = presence.location(of: sender) else { continue }
            push(Push.p2pDeclined(from: uid, to: sender, token: token).bytes, to: location)
        }
    }

    /// A stored record to push to `to`, and the gateway request to answer with the outcome.
    private struct Delivery {
        let to: String
        let record: [UInt8]
        let gateway: [UInt8]
        let requestId: UInt64
        /// A text, rather than an announced voice or file message: only texts are counted.
        let isText: Bool
    }

    /// While presence is being rebuilt (after a router start, or a gateway's return after a
    /// split) a recipient not found may be signed in: the delivery is held rather than the
    /// recipient called offline.
    private func deliverOrHold(_ delivery: Delivery) {
        if resync.verdict(recipientOnline: presence.location(of: delivery.to) != nil, now: DispatchTime.now().uptimeNanoseconds) == .hold {
            heldDeliveries.append(delivery)
        } else {
            answer(delivery)
        }
    }

    /// The record is durable: push it, and answer the gateway's request.
    private func answer(_ delivery: Delivery) {
        let answer = deliver(delivery.record, to: delivery.to, askedBy: delivery.gateway)
        if delivery.isText { metrics.count(answer) }
        loop.send(BusEnvelope(requestId: delivery.requestId, message: answer, flags: .reply), on: gatewaySocket, to: delivery.gateway)
    }

    /// Pushes `record` to `to` if online, and returns the answer for the asking gateway. When
    /// `to` is signed in on that same gateway the push rides in the answer (`deliveredPush`):
    /// one envelope instead of a push and a `delivery`, for every text between two users of
    /// one gateway.
    private func deliver(_ record: [UInt8], to: String, askedBy gateway: [UInt8]) -> BusMessage {
        guard let location = presence.location(of: to) else { return .delivery(.recipientOffline) }
        if location.gateway == gateway {
            return .deliveredPush(connection: location.entry.connection, bytes: record)
        }
        push(record, to: location)
        return .delivery(.delivered)
    }

    /// The socket identity of a gateway, by its id: every text names its gateway, and there are
    /// few, so the last one is kept rather than converted for each text.
    private func identity(of gatewayId: String) -> [UInt8] {
        if gatewayId != lastGatewayId {
            lastGatewayId = gatewayId
            lastGatewayIdentity = Array(gatewayId.utf8)
        }
        return lastGatewayIdentity
    }

    /// Answers the held deliveries whose recipient is now found, or whose wait is over; in the
    /// order they came, so one recipient's texts are pushed in order.
    private func releaseHeldDeliveries() {
        guard !heldDeliveries.isEmpty else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        let held = heldDeliveries
        heldDeliveries.removeAll()
        for delivery in held {
            if resync.verdict(recipientOnline: presence.location(of: delivery.to) != nil, now: now) == .hold {
                heldDeliveries.append(delivery)
            } else {
                answer(delivery)
            }
        }
    }

    private func attach(_ entry: PresenceEntry, on gateway: [UInt8]) {
        knownUsers.insert(entry.uid)
        if let displaced = presence.attach(entry, on: gateway) {
            loop.send(BusEnvelope(requestId: 0, message: .kick(connection: displaced.entry.connection)),
                      on: gatewaySocket, to: displaced.gateway)
        }
    }

    private func push(_ bytes: [UInt8], to location: PresenceTable.Location) {
        loop.send(BusEnvelope(requestId: 0, message: .push(connection: location.entry.connection, bytes: bytes)),
                  on: gatewaySocket, to: location.gateway)
    }

    /// Introduces `from` to `to` for a direct transfer: `to` is pushed the offer with a token.
    private func offer(from: String, to: String, size: Int64, sha256: String, name: String, privateEndpoint: String,
                       replyingTo incoming: BusIncoming) {
        // Counted before anything is looked up, so a flood of offers costs no lookups either.
        guard offerRate.allow(from, now: DispatchTime.now().uptimeNanoseconds) else {
            return loop.reply(to: incoming, with: .p2pTooManyOffers)
        }
        knownUsers.whenExists(to) { [self] exists in
            guard let exists else { return loop.reply(to: incoming, with: .delivery(.unavailable)) }
            guard exists else { return loop.reply(to: incoming, with: .delivery(.unknownRecipient)) }
            guard let receiver = presence.location(of: to) else { return loop.reply(to: incoming, with: .delivery(.recipientOffline)) }
            guard let sender = presence.location(of: from) else { return loop.reply(to: incoming, with: .delivery(.unavailable)) }
            guard let token = introductions.add(.init(sender: from, receiver: to, senderPublic: sender.entry.publicAddress,
                                                      senderPrivate: privateEndpoint, size: size,
                                                      created: DispatchTime.now().uptimeNanoseconds)) else {
                logger.notice("p2p offer refused: too many live offers", metadata: ["router.uid": "\(from)"])
                return loop.reply(to: incoming, with: .p2pTooManyOffers)
            }
            push(Push.p2pOffer(from: from, to: to, token: token, size: size, sha256: sha256, name: name).bytes, to: receiver)
            loop.reply(to: incoming, with: .p2pOffered(token: token))
        }
    }

    private func expireIntroductions() {
        let now = DispatchTime.now().uptimeNanoseconds
        introductions.expire(now: now)
        offerRate.forgetRefilled(now: now)
    }

    private func dropSilentGateways() {
        let now = DispatchTime.now().uptimeNanoseconds
        for (gateway, seen) in gatewayLastSeen where now - seen > gatewayTimeoutNanos {
            logger.warning("gateway went silent; its users are offline", metadata: ["router.gateway": "\(String(decoding: gateway, as: UTF8.self))"])
            forgetGateway(gateway)
        }
    }

    private func forgetGateway(_ gateway: [UInt8]) {
        presence.removeGateway(gateway)
        gatewayLastSeen.removeValue(forKey: gateway)
        syncedGateways.remove(gateway)
        resync.forget(gateway)
    }
}
