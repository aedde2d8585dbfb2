import ChatBus
import ChatProtocol
import ChatRuntime
import CoreMetrics
import Foundation
import Logging
import NIOCore

/// The gateway's side of the bus: one thread owning a DEALER to the router, one to auth and
/// one per storage worker it has known. SwiftNIO's event loops hand it requests and get their
/// answers back on their own event loop; nothing here blocks an event loop.
///
/// Storage requests go by the newest partition map known here (`StorageRouting`), starting
/// from the config's; a worker's `partitionMoved` answer brings a newer one, and the request
/// is sent again to the owner it names.
///
/// `@unchecked Sendable`: the event loops call only `request`, `send` and `deliverText`, which
/// hand the work to the bus thread (`BusLoop.execute`, or `submittedTexts` under its lock); every
/// other mutable field is touched on the bus thread alone.
final class GatewayBus: SessionBus, @unchecked Sendable {
    let gatewayId: String
    private let loop: BusLoop
    private let logger: Logger
    private let registry: SessionRegistry
    /// Touched on the bus thread only, like the sockets it indexes.
    private var storageRouting: StorageRouting
    /// Texts in flight and waiting per partition, with how often each was sent on (bus thread).
    private var textOrder: PartitionOrder<(TextSubmission, Int)>
    private var routerSocket: BusLoop.SocketID!
    private var authWorkers: AuthWorkers!
    private var storageSockets: [BusLoop.SocketID] = []
    private var thread: Thread?
    private let outputs: OutputBatches
    /// Work for the event loops gathered during one bus wake-up, handed over in one hop per
    /// event loop: a cross-thread wake-up per reply would cost more than the reply itself.
    private var handoffs: [EventLoopHandoff] = []
    /// Texts from the event loops not yet taken by the bus thread: appended under the lock,
    /// taken all at once, with one wake-up of the bus loop per batch instead of a task per text.
    /// (An NSLock, not a `Mutex`: every event loop takes it for every text, and Swift 6.3's
    /// `Mutex` on Linux is slow under contention, as `BusLoop`'s queue lock notes too.)
    private let submissionLock = NSLock()
    private var submittedTexts: [TextSubmission] = []
    /// Texts to uids known to exist go straight to storage without asking auth.
    private var knownUsers: KnownUsers!
    /// Who is signed in here, as the router has been told so far: updated when an attach or
    /// detach is sent, on this thread, so a snapshot sent after them agrees with them. (Built
    /// from replies instead, a snapshot could miss an attach the router already applied, and
    /// wipe that user's presence.)
    private var presence: [UInt64: PresenceEntry] = [:]
    /// `presence.count`, recorded where an attach, detach or kick changes it: per sign-in or
    /// sign-out, never per message.
    private let sessionsOnline: Gauge
    /// With leases in PostgreSQL partitions move when workers come and go, without a reload:
    /// the map is asked for every second, of each storage worker in turn.
    private let asksForMaps: Bool
    private var nextMapAsked = 0

    init(configuration: ChatConfiguration, security: BusSecurity, registry: SessionRegistry, outputs: OutputBatches,
         sessionsOnline: Gauge, logger: Logger) throws {
        self.logger = logger
        self.sessionsOnline = sessionsOnline
        self.registry = registry
        self.outputs = outputs
        asksForMaps = configuration.storageLeases
        gatewayId = Self.makeGatewayId()
        storageRouting = StorageRouting(map: .initial(partitions: configuration.storagePartitions, workers: configuration.storageEndpoints))
        textOrder = PartitionOrder(partitions: configuration.storagePartitions)
        loop = BusLoop(requestTimeout: .milliseconds(configuration.requestTimeoutMilliseconds),
                       failFastAfter: .milliseconds(configuration.failFastAfterMilliseconds), security: security, logger: logger)
        routerSocket = try loop.connectDealer(configuration.routerEndpoint, worker: "router", identity: gatewayId)
        authWorkers = try AuthWorkers(loop: loop, endpoints: configuration.authEndpoints)
        storageSockets = try storageRouting.endpoints.enumerated().map { try loop.connectDealer($1, worker: "storage-\($0)") }
        knownUsers = KnownUsers(loop: loop, auth: authWorkers)
        // Even an answer too late for its text (whose sender was told `Service unavailable`)
        // still pushes the stored text to its recipient.
        loop.onReply = { [unowned self] in pushCarried(in: $0) }
    }

    /// `gw-` and 60 random bits in base 32: unique among gateways, and at 15 bytes short enough
    /// to be stored inside a String without an allocation in every process that decodes it
    /// (it travels with every text).
    private static func makeGatewayId() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)
        var bits = UInt64.random(in: 0...UInt64.max)
        var id = Array("gw-".utf8)
        for _ in 0..<12 {
            id.append(alphabet[Int(bits & 31)])
            bits >>= 5
        }
        return String(decoding: id, as: UTF8.self)
    }

    func start() {
        loop.every(.seconds(1)) { [weak self] in self?.heartbeat() }
        let thread = Thread { [self] in
            loop.run(handler: handle, afterBatch: handOver)
        }
        thread.name = "gateway-bus"
        thread.start()
        self.thread = thread
        loop.execute { [self] in heartbeat() }
    }

    func stop() { loop.stop() }

    /// Sends a request; `completion` runs on `eventLoop` with the answer or why there is none.
    func request(_ message: BusMessage, to destination: BusDestination, on eventLoop: EventLoop,
                 _ completion: @escaping @Sendable (Result<BusMessage, BusRequestError>) -> Void) {
        loop.execute { [self] in
            track(message)
            guard case .storage(let pair) = destination else {
                return loop.request(message, on: socket(for: destination, message)) { [self] result in
                    hand(.work { completion(result) }, to: eventLoop)
                }
            }
            requestStorage(message, about: pair) { [self] result in
                hand(.work { completion(result) }, to: eventLoop)
            }
        }
    }

    /// Sends a storage request by the map (a transfer's continuation to the worker that began
    /// it); a `partitionMoved` answer is adopted and the request sent again, up to
    /// `StorageRouting.maxResends` times. A worker refuses a foreign partition before acting,
    /// so a resent request never acts twice. (Texts take `store`, the same way with one closure.)
    ///
    /// A transfer's chunk or an upload's finish answered `partitionMoved` is not sent again
    /// (its worker handed the upload over, or is gone with a move): the session carries the
    /// transfer on at the new owner.
    private func requestStorage(_ message: BusMessage, about pair: PairKey, resends: Int = 0,
                                _ completion: @escaping (Result<BusMessage, BusRequestError>) -> Void) {
        let slot = storageRouting.slot(for: message, pair: pair)
        loop.request(message, on: storageSockets[slot]) { [self] result in
            // With leases a worker that stopped or died leaves its partitions to others: a
            // request that never left (its worker gone) asks a live worker for the map, and
            // goes to the owner it names.
            if asksForMaps, case .failure(.unreachable) = result, !message.continuesTransfer, resends < StorageRouting.maxResends {
                return askForMap(avoiding: slot) { [self] in
                    guard storageRouting.slot(for: message, pair: pair) != slot else { return completion(result) }
                    requestStorage(message, about: pair, resends: resends + 1, completion)
                }
            }
            var result = result
            if case .failure(let failure) = result, storageRouting.transferMovedAway(message, failure: failure, pair: pair, askedSlot: slot) {
                result = .success(.partitionMoved(storageRouting.map))
            }
            if case .success(.partitionMoved(let newer)) = result, message.continuesTransfer { adopt(newer) }
            guard case .success(.partitionMoved(let newer)) = result, !message.continuesTransfer else {
                storageRouting.answered(message, with: result, from: slot)
                return completion(result)
            }
            guard sendsOn(message.kind, about: pair, movedTo: newer, askedSlot: slot, resends: resends) else {
                return completion(.success(Self.movedNowhere))
            }
            requestStorage(message, about: pair, resends: resends + 1, completion)
        }
    }

    /// What a request answered `partitionMoved` gets when no other owner is known: a storage
    /// failure, which the client sees as one.
    private static let movedNowhere = BusMessage.failure("partition moved, and no newer owner is known")

    /// After `partitionMoved`: adopts the map it brings, and says whether to send the request
    /// again (the map names another owner, and resends are left); if not, logs why.
    private func sendsOn(_ kind: BusMessage.Kind, about pair: PairKey, movedTo newer: PartitionMap, askedSlot slot: Int, resends: Int) -> Bool {
        adopt(newer)
        guard storageRouting.shouldResend(pair, askedSlot: slot, resends: resends) else {
            logger.warning("storage sent a request on, but to no other owner", metadata: [
                "bus.kind": "\(kind)", "storage.map_epoch": "\(storageRouting.map.epoch)",
                "storage.answer_epoch": "\(newer.epoch)", "storage.resends": "\(resends)"])
            return false
        }
        return true
    }

    /// Asks one storage worker (each known in turn, not only the map's: the map may name only
    /// workers that are gone; one whose connection is lost is skipped) for its map, and adopts
    /// it if newer; then runs `then`.
    private func askForMap(avoiding avoided: Int? = nil, then: @escaping () -> Void = {}) {
        let count = storageSockets.count
        let candidates = (0..<count).map { (nextMapAsked + $0) % count }.filter { $0 != avoided }
        nextMapAsked &+= 1
        guard let slot = candidates.first(where: { !loop.isPeerLost(on: storageSockets[$0]) }) ?? candidates.first else { return then() }
        loop.request(.partitionMapWanted, on: storageSockets[slot]) { [self] result in
            if case .success(.partitionMoved(let map)) = result { adopt(map) }
            then()
        }
    }

    /// Takes the data folder's partition map if it is newer than the one held (a reload on
    /// the supervisor's machine after storage workers were added or removed). From any thread.
    /// Not with leases, whose maps come from the workers.
    func reloadPartitionMap(dataDirectory: String) {
        guard !asksForMaps else { return }
        loop.execute { [self] in
            do {
                guard let map = try PartitionMapFile.read(from: PartitionMapFile.path(inHistoryFolder: "\(dataDirectory)/history")) else { return }
                adopt(map)
            } catch {
                logger.error("partition map not read", metadata: ["storage.error": "\(error)"])
            }
        }
    }

    /// Routes by `newer` from now on if it is newer than the map held, connecting to the
    /// storage workers it names that have no socket yet.
    private func adopt(_ newer: PartitionMap) {
        let slotsBefore = Set(storageRouting.slotOfWorker)
        do {
            let adopted = try storageRouting.adopt(newer) { endpoint, name in
                storageSockets.append(try loop.connectDealer(endpoint, worker: name))
            }
            guard adopted else { return }
            // A worker named again after it was removed is starting at its old endpoint: its
            // socket's requests wait for it instead of failing fast as for a worker gone.
            for slot in Set(storageRouting.slotOfWorker).subtracting(slotsBefore) { loop.expectPeerBack(on: storageSockets[slot]) }
            logger.info("adopted a newer partition map", metadata: [
                "storage.map_epoch": "\(newer.epoch)", "storage.workers": "\(newer.workers)"])
        } catch {
            // ZeroMQ refused an endpoint the map names: the old map stays, and requests it
            // cannot place end as storage failures do.
            logger.error("cannot connect to a storage worker of a newer partition map", metadata: [
                "storage.map_epoch": "\(newer.epoch)", "bus.error": "\(error)"])
        }
    }

    /// A text: stored by the pair's storage worker, which hands it to the router, which pushes
    /// it and answers (three hops). The reply lands in the submission's slot on its connection.
    func deliverText(_ text: TextSubmission) {
        let mustWake = submissionLock.withLock {
            submittedTexts.append(text)
            return submittedTexts.count == 1
        }
        if mustWake { loop.execute { [self] in sendSubmittedTexts() } }
    }

    private func sendSubmittedTexts() {
        let texts = submissionLock.withLock {
            let taken = submittedTexts
            submittedTexts.removeAll(keepingCapacity: true)
            return taken
        }
        for text in texts {
            if knownUsers.contains(text.to) {
                store(text)
                continue
            }
            knownUsers.whenExists(text.to) { [self] exists in
                switch exists {
                case true?: store(text)
                case false?: answer(text, .uidNotExits)
                case nil: answer(text, .serviceUnavailable)
                }
            }
        }
    }

    /// Sends a text to its partition's worker, unless earlier texts of that partition are on
    /// their way elsewhere (`PartitionOrder`): a pair's texts are stored in the order sent.
    private func store(_ text: TextSubmission) {
        let partition = storageRouting.partition(of: PairKey(text.from, text.to))
        let slot = storageRouting.slot(ofPartition: partition)
        guard textOrder.admit((text, 0), partition: partition, slot: slot) else { return }
        send(text, resends: 0, partition: partition, slot: slot)
    }

    /// As `requestStorage` does, but with one closure per text rather than two: a text is no
    /// transfer, and the message is made again from the submission if it must be resent.
    private func send(_ text: TextSubmission, resends: Int, partition: Int, slot: Int) {
        let pair = PairKey(text.from, text.to)
        let message = BusMessage.storeAndDeliver(pair: pair, record: text.record, to: text.to, gatewayId: gatewayId)
        loop.request(message, on: storageSockets[slot]) { [self] result in
            var again: (TextSubmission, Int)?
            if case .success(.partitionMoved(let newer)) = result {
                if sendsOn(.storeAndDeliver, about: pair, movedTo: newer, askedSlot: slot, resends: resends) {
                    again = (text, resends + 1)
                } else {
                    answer(text, ReplyMapping.delivery(.success(Self.movedNowhere)))
                }
            } else {
                answer(text, ReplyMapping.delivery(result))
            }
            let now = storageRouting.slot(ofPartition: partition)
            for (next, count) in textOrder.answered(partition: partition, resend: again, slot: now) {
                send(next, resends: count, partition: partition, slot: now)
            }
        }
    }

    /// An answer `deliveredPush` carries the recipient's push: it is handed on before the
    /// answer, where the router's separate push would have been.
    private func pushCarried(in reply: BusMessage) {
        guard case .deliveredPush(let connectionId, let bytes) = reply else { return }
        push(bytes, to: connectionId)
    }

    private func push(_ bytes: [UInt8], to connectionId: UInt64) {
        if let connection = registry.connection(connectionId) {
            hand(.push(connection, bytes), to: connection.eventLoop)
        }
    }

    private func answer(_ text: TextSubmission, _ reply: ServerReply) {
        hand(.reply(text.connection, text.slot, reply), to: text.connection.eventLoop)
    }

    /// A one-way message: no answer, no retry.
    func send(_ message: BusMessage, to destination: BusDestination) {
        loop.execute { [self] in
            track(message)
            guard case .storage(let pair) = destination else {
                return loop.send(BusEnvelope(requestId: 0, message: message), on: socket(for: destination, message))
            }
            let slot = storageRouting.slot(for: message, pair: pair)
            storageRouting.sent(message)
            loop.send(BusEnvelope(requestId: 0, message: message), on: storageSockets[slot])
        }
    }

    private func track(_ message: BusMessage) {
        switch message {
        case .attach(let entry): presence[entry.connection] = entry
        case .detach(_, let connection): presence.removeValue(forKey: connection)
        default: return
        }
        sessionsOnline.record(presence.count)
    }

    /// Queues `item` for `eventLoop`, to go over at the end of this wake-up.
    private func hand(_ item: EventLoopHandoff.Item, to eventLoop: EventLoop) {
        // A gateway has a handful of event loops: a scan beats hashing for every reply.
        if let index = handoffs.firstIndex(where: { $0.eventLoop === eventLoop }) {
            handoffs[index].items.append(item)
        } else {
            handoffs.append(EventLoopHandoff(eventLoop: eventLoop, output: outputs.batch(for: eventLoop), items: [item]))
        }
    }

    private func handOver() {
        for index in handoffs.indices where !handoffs[index].items.isEmpty {
            let items = handoffs[index].items
            let output = handoffs[index].output
            handoffs[index].items.removeAll(keepingCapacity: true)
            handoffs[index].eventLoop.execute { EventLoopHandoff.run(items, output: output) }
        }
    }

    private func socket(for destination: BusDestination, _ message: BusMessage) -> BusLoop.SocketID {
        switch destination {
        case .auth: return authWorkers.socket(for: message, on: loop)
        case .router: return routerSocket
        case .storage(let pair): return storageSockets[storageRouting.slot(for: pair)]
        }
    }

    private func handle(_ incoming: BusIncoming) {
        switch incoming.message {
        case .push(let connectionId, let bytes):
            push(bytes, to: connectionId)
        case .kick(let connectionId):
            // A kicked connection sends no detach: it is no longer signed in here.
            presence.removeValue(forKey: connectionId)
            sessionsOnline.record(presence.count)
            if let connection = registry.connection(connectionId) {
                hand(.work { connection.kick() }, to: connection.eventLoop)
            }
        default:
            logger.warning("gateway got an unexpected message", metadata: ["bus.kind": "\(incoming.message.kind)"])
        }
    }

    /// Tells the router we are alive; a router that does not know us (it restarted, or we are
    /// new) gets everyone signed in here, so presence is whole again without clients noticing.
    private func heartbeat() {
        if asksForMaps { askForMap() }
        loop.request(.gatewayHello(gatewayId: gatewayId), on: routerSocket) { [self] result in
            guard case .success(.routerWelcome(_, let needsSync)) = result, needsSync else { return }
            let sessions = Array(presence.values)
            loop.request(.presenceSync(sessions), on: routerSocket) { [self] result in
                if case .success(.attached) = result {
                    logger.info("router has our presence", metadata: ["gateway.sessions": "\(sessions.count)"])
                }
            }
        }
    }
}
