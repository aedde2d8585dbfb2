extension BusMessage {
    /// The wire tag of each case. Values are part of the bus format: never renumber, only add.
    public enum Kind: UInt16, Sendable {
        case signUp = 1, signIn, addFriend, listFriends, userExists, authOutcome, friendList, existence
        case signInFrom = 10, signInThrottled, signUpFrom, signUpThrottled
        // 24 was `deliver`, retired when texts began to go through storage first.
        case gatewayHello = 20, presenceSync, attach, detach
        case queryPresence = 25, notify, announce
        case routerWelcome = 40, attached, delivery, presence, push, kick, deliveredPush
        // 60 and 62 were `appendRecord` and `appended`, retired with the three-hop texts;
        // 61 and 63 `fetchHistory` and `history`, retired when histories began to be paged.
        case storeAndDeliver = 64, deliverStored
        case beginUpload = 70, uploadChunk, finishUpload, abortUpload, openDownload, readChunk, closeDownload
        case uploadReady = 80, chunkStored, stored, downloadReady, noSuchFile, chunk
        case p2pOffer = 90, p2pAccept, p2pDecline, p2pRelayCheck, p2pOffered, p2pConnect, p2pDeclined, p2pUnknown, p2pRelayAllowed
        case failure = 100
        case p2pTooManyOffers = 120
        case openHistory = 130, readHistory, historySnapshot, historyPage
        case reserveStorage = 140, releaseStorage, storageReservation
        case partitionMoved = 150, resumeUpload, partitionMapWanted
        case issueTicket = 160, ticket, resumeFrom, revokeTickets, resumed
    }

    public var kind: Kind {
        switch self {
        case .signUp: return .signUp
        case .signIn: return .signIn
        case .signInFrom: return .signInFrom
        case .signInThrottled: return .signInThrottled
        case .signUpFrom: return .signUpFrom
        case .signUpThrottled: return .signUpThrottled
        case .addFriend: return .addFriend
        case .listFriends: return .listFriends
        case .userExists: return .userExists
        case .authOutcome: return .authOutcome
        case .friendList: return .friendList
        case .existence: return .existence
        case .gatewayHello: return .gatewayHello
        case .presenceSync: return .presenceSync
        case .attach: return .attach
        case .detach: return .detach
        case .queryPresence: return .queryPresence
        case .notify: return .notify
        case .announce: return .announce
        case .beginUpload: return .beginUpload
        case .uploadChunk: return .uploadChunk
        case .finishUpload: return .finishUpload
        case .abortUpload: return .abortUpload
        case .resumeUpload: return .resumeUpload
        case .openDownload: return .openDownload
        case .readChunk: return .readChunk
        case .closeDownload: return .closeDownload
        case .uploadReady: return .uploadReady
        case .chunkStored: return .chunkStored
        case .stored: return .stored
        case .downloadReady: return .downloadReady
        case .noSuchFile: return .noSuchFile
        case .chunk: return .chunk
        case .routerWelcome: return .routerWelcome
        case .attached: return .attached
        case .delivery: return .delivery
        case .presence: return .presence
        case .push: return .push
        case .kick: return .kick
        case .deliveredPush: return .deliveredPush
        case .storeAndDeliver: return .storeAndDeliver
        case .deliverStored: return .deliverStored
        case .openHistory: return .openHistory
        case .readHistory: return .readHistory
        case .historySnapshot: return .historySnapshot
        case .historyPage: return .historyPage
        case .p2pOffer: return .p2pOffer
        case .p2pAccept: return .p2pAccept
        case .p2pDecline: return .p2pDecline
        case .p2pRelayCheck: return .p2pRelayCheck
        case .p2pOffered: return .p2pOffered
        case .p2pConnect: return .p2pConnect
        case .p2pDeclined: return .p2pDeclined
        case .p2pUnknown: return .p2pUnknown
        case .p2pRelayAllowed: return .p2pRelayAllowed
        case .p2pTooManyOffers: return .p2pTooManyOffers
        case .failure: return .failure
        case .reserveStorage: return .reserveStorage
        case .releaseStorage: return .releaseStorage
        case .storageReservation: return .storageReservation
        case .partitionMoved: return .partitionMoved
        case .partitionMapWanted: return .partitionMapWanted
        case .issueTicket: return .issueTicket
        case .ticket: return .ticket
        case .resumeFrom: return .resumeFrom
        case .revokeTickets: return .revokeTickets
        case .resumed: return .resumed
        }
    }

    func encodeBody(into writer: inout BusWriter) {
        switch self {
        case .signUp(let uid, let password), .signIn(let uid, let password):
            writer.write(uid); writer.write(password)
        case .signInFrom(let uid, let password, let address), .signUpFrom(let uid, let password, let address):
            writer.write(uid); writer.write(password); writer.write(address)
        case .signInThrottled(let retryAfter), .signUpThrottled(let retryAfter):
            writer.write(retryAfter)
        case .addFriend(let owner, let friend):
            writer.write(owner); writer.write(friend)
        case .listFriends(let uid), .userExists(let uid):
            writer.write(uid)
        case .authOutcome(let outcome):
            writer.write(outcome.rawValue)
        case .friendList(let uids), .queryPresence(let uids):
            writer.write(uids)
        case .existence(let exists):
            writer.write(exists)
        case .gatewayHello(let gatewayId):
            writer.write(gatewayId)
        case .presenceSync(let entries):
            writer.write(UInt32(entries.count))
            for entry in entries { entry.encode(into: &writer) }
        case .attach(let entry):
            entry.encode(into: &writer)
        case .detach(let uid, let connection):
            writer.write(uid); writer.write(connection)
        case .announce(let from, let to, let record):
            writer.write(from); writer.write(to); writer.write(bytes: record)
        case .beginUpload(let pair, let header, let name, let size):
            pair.encode(into: &writer); writer.write(bytes: header); writer.write(name); writer.write(size)
        case .resumeUpload(let pair, let header, let name, let size, let upload, let received):
            pair.encode(into: &writer); writer.write(bytes: header); writer.write(name); writer.write(size)
            writer.write(upload); writer.write(received)
        case .uploadChunk(let upload, let bytes):
            writer.write(upload); writer.write(bytes: bytes)
        case .finishUpload(let id), .abortUpload(let id), .closeDownload(let id), .uploadReady(let id):
            writer.write(id)
        case .openDownload(let pair, let name):
            pair.encode(into: &writer); writer.write(name)
        case .readChunk(let download, let offset, let length):
            writer.write(download); writer.write(offset); writer.write(length)
        case .chunkStored, .noSuchFile, .partitionMapWanted:
            break
        case .issueTicket(let uid, let family), .revokeTickets(let uid, let family):
            writer.write(uid); writer.write(family)
        case .ticket(let ticket):
            writer.write(ticket)
        case .resumed(let family):
            writer.write(family)
        case .resumeFrom(let uid, let ticket, let address):
            writer.write(uid); writer.write(ticket); writer.write(address)
        case .stored(let record):
            writer.write(bytes: record)
        case .downloadReady(let download, let size, let path):
            writer.write(download); writer.write(size); writer.write(path)
        case .chunk(let bytes):
            writer.write(bytes: bytes)
        case .notify(let to, let bytes):
            writer.write(to); writer.write(bytes: bytes)
        case .routerWelcome(let instance, let needsSync):
            writer.write(instance); writer.write(needsSync)
        case .attached:
            break
        case .delivery(let outcome):
            writer.write(outcome.rawValue)
        case .presence(let online):
            writer.write(UInt32(online.count))
            for flag in online { writer.write(flag) }
        case .push(let connection, let bytes), .deliveredPush(let connection, let bytes):
            writer.write(connection); writer.write(bytes: bytes)
        case .kick(let connection):
            writer.write(connection)
        case .storeAndDeliver(let pair, let record, let to, let gatewayId):
            pair.encode(into: &writer); writer.write(bytes: record); writer.write(to); writer.write(gatewayId)
        case .deliverStored(let to, let record, let gatewayId, let requestId):
            writer.write(to); writer.write(bytes: record); writer.write(gatewayId); writer.write(requestId)
        case .openHistory(let pair):
            pair.encode(into: &writer)
        case .readHistory(let pair, let after, let through, let maxBytes):
            pair.encode(into: &writer); writer.write(after); writer.write(through); writer.write(maxBytes)
        case .historySnapshot(let through, let size):
            writer.write(through); writer.write(size)
        case .historyPage(let last, let bytes):
            writer.write(last); writer.write(bytes: bytes)
        case .p2pOffer(let from, let to, let size, let sha256, let name, let privateEndpoint):
            writer.write(from); writer.write(to); writer.write(size); writer.write(sha256); writer.write(name); writer.write(privateEndpoint)
        case .p2pAccept(let by, let token, let privateEndpoint):
            writer.write(by); writer.write(token); writer.write(privateEndpoint)
        case .p2pDecline(let by, let token):
            writer.write(by); writer.write(token)
        case .p2pRelayCheck(let token, let key):
            writer.write(token); writer.write(key)
        case .p2pOffered(let token):
            writer.write(token)
        case .p2pConnect(let token, let peerPublic, let peerPrivate, let relayKey):
            writer.write(token); writer.write(peerPublic); writer.write(peerPrivate); writer.write(relayKey)
        case .p2pDeclined, .p2pUnknown, .p2pTooManyOffers:
            break
        case .p2pRelayAllowed(let offeredSize):
            writer.write(offeredSize)
        case .failure(let reason):
            writer.write(reason)
        case .reserveStorage(let uid, let bytes), .releaseStorage(let uid, let bytes):
            writer.write(uid); writer.write(bytes)
        case .storageReservation(let granted):
            writer.write(granted)
        case .partitionMoved(let map):
            map.encode(into: &writer)
        }
    }

    init(kind: Kind, body reader: inout BusReader) throws {
        switch kind {
        case .signUp: self = .signUp(uid: try reader.read(), password: try reader.read())
        case .signIn: self = .signIn(uid: try reader.read(), password: try reader.read())
        case .signInFrom: self = .signInFrom(uid: try reader.read(), password: try reader.read(), address: try reader.read())
        case .signInThrottled: self = .signInThrottled(retryAfterMilliseconds: try reader.read())
        case .signUpFrom: self = .signUpFrom(uid: try reader.read(), password: try reader.read(), address: try reader.read())
        case .signUpThrottled: self = .signUpThrottled(retryAfterMilliseconds: try reader.read())
        case .addFriend: self = .addFriend(owner: try reader.read(), friend: try reader.read())
        case .listFriends: self = .listFriends(owner: try reader.read())
        case .userExists: self = .userExists(uid: try reader.read())
        case .authOutcome: self = .authOutcome(try Self.decodeRaw(AuthOutcome.self, from: &reader))
        case .friendList: self = .friendList(try reader.read())
        case .existence: self = .existence(try reader.read())
        case .gatewayHello: self = .gatewayHello(gatewayId: try reader.read())
        case .presenceSync:
            let count = Int(try reader.read() as UInt32)
            guard count <= reader.remaining else { throw BusDecodingError.truncated }
            var entries: [PresenceEntry] = []
            for _ in 0..<count { entries.append(try PresenceEntry(decoding: &reader)) }
            self = .presenceSync(entries)
        case .attach: self = .attach(try PresenceEntry(decoding: &reader))
        case .detach: self = .detach(uid: try reader.read(), connection: try reader.read())
        case .queryPresence: self = .queryPresence(try reader.read())
        case .notify: self = .notify(to: try reader.read(), bytes: try reader.readBytes())
        case .announce: self = .announce(from: try reader.read(), to: try reader.read(), record: try reader.readBytes())
        case .beginUpload:
            self = .beginUpload(pair: try PairKey(decoding: &reader), header: try reader.readBytes(), name: try reader.read(), size: try reader.read())
        case .uploadChunk: self = .uploadChunk(upload: try reader.read(), bytes: try reader.readBytes())
        case .finishUpload: self = .finishUpload(upload: try reader.read())
        case .abortUpload: self = .abortUpload(upload: try reader.read())
        case .resumeUpload:
            self = .resumeUpload(pair: try PairKey(decoding: &reader), header: try reader.readBytes(), name: try reader.read(),
                                 size: try reader.read(), upload: try reader.read(), received: try reader.read())
        case .openDownload: self = .openDownload(pair: try PairKey(decoding: &reader), name: try reader.read())
        case .readChunk: self = .readChunk(download: try reader.read(), offset: try reader.read(), length: try reader.read())
        case .closeDownload: self = .closeDownload(download: try reader.read())
        case .uploadReady: self = .uploadReady(upload: try reader.read())
        case .chunkStored: self = .chunkStored
        case .stored: self = .stored(record: try reader.readBytes())
        case .downloadReady: self = .downloadReady(download: try reader.read(), size: try reader.read(), path: try reader.read())
        case .noSuchFile: self = .noSuchFile
        case .chunk: self = .chunk(try reader.readBytes())
        case .routerWelcome: self = .routerWelcome(routerInstance: try reader.read(), needsSync: try reader.read())
        case .attached: self = .attached
        case .delivery: self = .delivery(try Self.decodeRaw(DeliveryOutcome.self, from: &reader))
        case .presence:
            let count = Int(try reader.read() as UInt32)
            guard count <= reader.remaining else { throw BusDecodingError.truncated }
            var online: [Bool] = []
            for _ in 0..<count { online.append(try reader.read()) }
            self = .presence(online)
        case .push: self = .push(connection: try reader.read(), bytes: try reader.readBytes())
        case .kick: self = .kick(connection: try reader.read())
        case .deliveredPush: self = .deliveredPush(connection: try reader.read(), bytes: try reader.readBytes())
        case .storeAndDeliver:
            self = .storeAndDeliver(pair: try PairKey(decoding: &reader), record: try reader.readBytes(), to: try reader.read(),
                                    gatewayId: try reader.read())
        case .deliverStored:
            self = .deliverStored(to: try reader.read(), record: try reader.readBytes(), gatewayId: try reader.read(),
                                  requestId: try reader.read())
        case .openHistory: self = .openHistory(pair: try PairKey(decoding: &reader))
        case .readHistory:
            self = .readHistory(pair: try PairKey(decoding: &reader), after: try reader.read(), through: try reader.read(),
                                maxBytes: try reader.read())
        case .historySnapshot: self = .historySnapshot(through: try reader.read(), size: try reader.read())
        case .historyPage: self = .historyPage(last: try reader.read(), bytes: try reader.readBytes())
        case .p2pOffer:
            self = .p2pOffer(from: try reader.read(), to: try reader.read(), size: try reader.read(), sha256: try reader.read(),
                             name: try reader.read(), privateEndpoint: try reader.read())
        case .p2pAccept: self = .p2pAccept(by: try reader.read(), token: try reader.read(), privateEndpoint: try reader.read())
        case .p2pDecline: self = .p2pDecline(by: try reader.read(), token: try reader.read())
        case .p2pRelayCheck: self = .p2pRelayCheck(token: try reader.read(), key: try reader.read())
        case .p2pOffered: self = .p2pOffered(token: try reader.read())
        case .p2pConnect:
            self = .p2pConnect(token: try reader.read(), peerPublic: try reader.read(), peerPrivate: try reader.read(),
                               relayKey: try reader.read())
        case .p2pDeclined: self = .p2pDeclined
        case .p2pUnknown: self = .p2pUnknown
        case .p2pRelayAllowed: self = .p2pRelayAllowed(offeredSize: try reader.read())
        case .p2pTooManyOffers: self = .p2pTooManyOffers
        case .failure: self = .failure(try reader.read())
        case .reserveStorage: self = .reserveStorage(uid: try reader.read(), bytes: try reader.read())
        case .releaseStorage: self = .releaseStorage(uid: try reader.read(), bytes: try reader.read())
        case .storageReservation: self = .storageReservation(granted: try reader.read())
        case .partitionMoved: self = .partitionMoved(try PartitionMap(decoding: &reader))
        case .partitionMapWanted: self = .partitionMapWanted
        case .issueTicket: self = .issueTicket(uid: try reader.read(), family: try reader.read())
        case .ticket: self = .ticket(try reader.read())
        case .resumeFrom: self = .resumeFrom(uid: try reader.read(), ticket: try reader.read(), address: try reader.read())
        case .revokeTickets: self = .revokeTickets(uid: try reader.read(), family: try reader.read())
        case .resumed: self = .resumed(family: try reader.read())
        }
    }

    private static func decodeRaw<T: RawRepresentable>(_ type: T.Type, from reader: inout BusReader) throws -> T where T.RawValue == UInt8 {
        let raw: UInt8 = try reader.read()
        guard let value = T(rawValue: raw) else { throw BusDecodingError.badValue("\(T.self) \(raw)") }
        return value
    }
}

extension PresenceEntry {
    func encode(into writer: inout BusWriter) {
        writer.write(uid); writer.write(connection); writer.write(publicAddress)
    }

    init(decoding reader: inout BusReader) throws {
        self.init(uid: try reader.read(), connection: try reader.read(), publicAddress: try reader.read())
    }
}

extension PartitionMap {
    /// `epoch: u64 | workers: u32 count, strings | owners: u32 count, u16 each`.
    func encode(into writer: inout BusWriter) {
        writer.write(epoch)
        writer.write(workers)
        writer.write(UInt32(owners.count))
        for owner in owners { writer.write(UInt16(owner)) }
    }

    /// Hostile input: the counts are checked before anything is read for them, and the map
    /// against `Limits` before anyone routes by it.
    init(decoding reader: inout BusReader) throws {
        let epoch: UInt64 = try reader.read()
        let workerCount = Int(try reader.read() as UInt32)
        guard workerCount <= Limits.workers else { throw BusDecodingError.badValue("partition map of \(workerCount) workers") }
        guard workerCount * 4 <= reader.remaining else { throw BusDecodingError.truncated }
        var workers: [String] = []
        workers.reserveCapacity(workerCount)
        for _ in 0..<workerCount {
            let endpoint: String = try reader.read()
            guard endpoint.utf8.count <= Limits.endpointBytes else { throw BusDecodingError.badValue("endpoint of \(endpoint.utf8.count) bytes") }
            workers.append(endpoint)
        }
        let ownerCount = Int(try reader.read() as UInt32)
        guard ownerCount <= Limits.partitions else { throw BusDecodingError.badValue("partition map of \(ownerCount) partitions") }
        guard ownerCount * 2 <= reader.remaining else { throw BusDecodingError.truncated }
        var owners: [Int] = []
        owners.reserveCapacity(ownerCount)
        for _ in 0..<ownerCount { owners.append(Int(try reader.read() as UInt16)) }
        do {
            try self.init(epoch: epoch, workers: workers, owners: owners)
        } catch {
            throw BusDecodingError.badValue("partition map: \(error)")
        }
    }
}
