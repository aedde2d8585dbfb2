/// Every message that travels between the chat processes, defined in this one place.
///
/// Requests and their replies are paired by the envelope's `requestId`; the comment on each
/// case names who sends it to whom.
public enum BusMessage: Equatable, Sendable {
    // MARK: gateway -> auth
    case signUp(uid: String, password: String)
    case signIn(uid: String, password: String)
    /// A sign-in with the client's address as auth counts failures by: the IP, or an IPv6 /64.
    /// (A case of its own rather than a field added to `signIn`, so the bus format only grows.)
    case signInFrom(uid: String, password: String, address: String)
    /// A sign-up with the client's address, so its hash counts against that address's share.
    case signUpFrom(uid: String, password: String, address: String)
    case addFriend(owner: String, friend: String)
    case listFriends(owner: String)
    // MARK: gateway or router -> auth
    case userExists(uid: String)
    // MARK: auth -> requester
    case authOutcome(AuthOutcome)
    case friendList([String])
    case existence(Bool)
    /// A sign-in refused unchecked: its address or account failed too often lately and may try
    /// again after this long.
    case signInThrottled(retryAfterMilliseconds: UInt32)
    /// A sign-up refused unchecked: its address has signed up its allowance of accounts lately
    /// and may sign up again after this long.
    case signUpThrottled(retryAfterMilliseconds: UInt32)

    // MARK: gateway -> router
    /// Heartbeat, every second; a router that does not know the gateway answers `needsSync`.
    case gatewayHello(gatewayId: String)
    /// Everything signed in on a gateway, sent after a router (re)start.
    case presenceSync([PresenceEntry])
    case attach(PresenceEntry)
    case detach(uid: String, connection: UInt64)
    case queryPresence([String])
    /// One-way: push `bytes` to `to` if online; nothing is stored (friend requests).
    case notify(to: String, bytes: [UInt8])
    // MARK: router -> gateway
    case routerWelcome(routerInstance: UInt64, needsSync: Bool)
    case attached
    case delivery(DeliveryOutcome)
    case presence([Bool])
    case push(connection: UInt64, bytes: [UInt8])
    /// The user signed in elsewhere: the gateway tells this connection and closes it.
    case kick(connection: UInt64)
    /// Answers a text or announcement whose recipient is signed in on the asking gateway:
    /// delivered, with the push for the recipient's connection in the same envelope (a text's
    /// commonest case, which would otherwise take a `push` and a `delivery`).
    case deliveredPush(connection: UInt64, bytes: [UInt8])

    /// The record of a stored file or voice message: push it if `to` is online. Nothing is
    /// stored here; storage already has it. Answered with `delivery` or `deliveredPush`.
    case announce(from: String, to: String, record: [UInt8])

    // MARK: gateway -> router, peer-to-peer transfers (the router introduces the peers)
    /// Answered `p2pOffered`, or `delivery(.recipientOffline / .unknownRecipient)`.
    case p2pOffer(from: String, to: String, size: Int64, sha256: String, name: String, privateEndpoint: String)
    /// Answered `p2pConnect` with the offering peer's endpoints, or `p2pUnknown`.
    case p2pAccept(by: String, token: String, privateEndpoint: String)
    /// Answered `p2pDeclined` or `p2pUnknown`.
    case p2pDecline(by: String, token: String)
    /// May a relay connection presenting this token and side key be paired? Each side's key
    /// is granted once: answered `p2pRelayAllowed`, or `p2pUnknown` (no such accepted transfer,
    /// a wrong key, or that side already presented).
    case p2pRelayCheck(token: String, key: String)
    // MARK: router -> gateway, peer-to-peer
    case p2pOffered(token: String)
    /// `relayKey`: the asking side's own key for `p2pRelayCheck`, given to it alone.
    case p2pConnect(token: String, peerPublic: String, peerPrivate: String, relayKey: String)
    case p2pDeclined
    case p2pUnknown
    /// The relay may pair this side; the transfer was offered at `offeredSize` bytes, which
    /// bounds what the relay carries.
    case p2pRelayAllowed(offeredSize: Int64)
    /// The offerer is over its offer rate or its live introductions: nothing was introduced.
    case p2pTooManyOffers

    // MARK: gateway -> storage
    /// Gateway -> storage: append, then hand the record to the router for delivery
    /// (`deliverStored`), which answers the gateway's request itself: three hops per text.
    case storeAndDeliver(pair: PairKey, record: [UInt8], to: String, gatewayId: String)
    /// Storage -> router, one-way: `record` is durable; push it if `to` is online and answer the
    /// gateway's request `requestId` with `delivery` or `deliveredPush`.
    case deliverStored(to: String, record: [UInt8], gatewayId: String, requestId: UInt64)
    /// Opens a read of the pair's history as it is now: answered `historySnapshot`. Storage
    /// keeps nothing for it; the pages name the snapshot themselves.
    case openHistory(pair: PairKey)
    /// The pair's records with ids in `after+1 ... through`, oldest first, whole records only,
    /// about `maxBytes` of them (at least one record): answered `historyPage`.
    case readHistory(pair: PairKey, after: Int64, through: Int64, maxBytes: UInt32)
    /// Starts an upload of `size` bytes named `name`; `header` is the command's first line.
    case beginUpload(pair: PairKey, header: [UInt8], name: String, size: Int64)
    /// The next bytes of an upload, in order. Each is answered (`chunkStored`), which frees
    /// its bytes from the sender's credit.
    case uploadChunk(upload: UInt64, bytes: [UInt8])
    /// Every byte was sent: make the file durable, then commit its record.
    case finishUpload(upload: UInt64)
    /// One-way: the client went away mid-upload; nothing is kept.
    case abortUpload(upload: UInt64)
    /// Carries on, at the partition's owner now, an upload its previous owner let go of (it
    /// answered a chunk or the finish `partitionMoved`): the upload's first `received` bytes,
    /// confirmed by then, are kept from the file it left; the rest follows as chunks, under the
    /// same `upload` id. Answered `uploadReady`.
    case resumeUpload(pair: PairKey, header: [UInt8], name: String, size: Int64, upload: UInt64, received: Int64)
    case openDownload(pair: PairKey, name: String)
    case readChunk(download: UInt64, offset: Int64, length: UInt32)
    /// One-way: the download is over (done, declined or the client left).
    case closeDownload(download: UInt64)
    // MARK: storage -> requester
    /// The history as of now: records up to id `through`, `size` bytes in all (0: none yet).
    case historySnapshot(through: Int64, size: Int64)
    /// The next records of a history read, concatenated; `last` is the id to read after next.
    case historyPage(last: Int64, bytes: [UInt8])
    case uploadReady(upload: UInt64)
    case chunkStored
    /// The upload is durable; `record` names the file as stored (after any renaming).
    case stored(record: [UInt8])
    /// `path` is the stored file's absolute path: a gateway that can open it (same machine)
    /// sends it to the client straight from the file instead of asking for chunks.
    case downloadReady(download: UInt64, size: Int64, path: String)
    case noSuchFile
    case chunk([UInt8])
    /// Any storage request for a partition this worker's map gives to another worker: the map,
    /// so a requester with an older one adopts it and asks the owner instead.
    case partitionMoved(PartitionMap)
    /// A gateway asks a storage worker for its map (answered `partitionMoved`): with leases in
    /// PostgreSQL partitions move without anyone asking, and gateways ask every second.
    case partitionMapWanted

    // MARK: gateway -> auth, session resumption (docs/protocol.md)
    /// A new resumption ticket for `uid`, signed in, in the session's ticket `family`: one
    /// device's chain of tickets, begun at its password sign-in and carried through each
    /// resume. Answered `ticket`.
    case issueTicket(uid: String, family: String)
    case ticket(String)
    /// A sign-in with a ticket instead of the password, from `address` (empty if unknown).
    /// Answered `resumed` with the ticket's family, `authOutcome` (`wrongPassword` for any
    /// ticket not good) or `signInThrottled`.
    case resumeFrom(uid: String, ticket: String, address: String)
    case resumed(family: String)
    /// `uid` signed out (`offline`): the tickets of the session's `family` stop working.
    /// One-way.
    case revokeTickets(uid: String, family: String)

    // MARK: gateway -> auth, stored bytes per user (the quota)
    /// Counts `bytes` more as stored by `uid` if that stays within the quota, before the upload
    /// begins. Answered `storageReservation`.
    case reserveStorage(uid: String, bytes: Int64)
    /// One-way: an upload reserved with `reserveStorage` was not stored; `bytes` count no more.
    case releaseStorage(uid: String, bytes: Int64)
    // MARK: auth -> gateway
    /// False: the upload would take the user past `auth.max_stored_bytes_per_user`.
    case storageReservation(granted: Bool)

    // MARK: any -> requester
    case failure(String)
}

public struct PresenceEntry: Equatable, Sendable {
    public var uid: String
    public var connection: UInt64
    /// The client's address as the gateway saw it (after any NAT), `host:port`.
    public var publicAddress: String

    public init(uid: String, connection: UInt64, publicAddress: String) {
        self.uid = uid
        self.connection = connection
        self.publicAddress = publicAddress
    }
}

public enum AuthOutcome: UInt8, Equatable, Sendable {
    case signedUp, uidTaken, signedIn, unknownUid, wrongPassword, friendAdded, invalidRequest, alreadyFriends
    /// No resumption ticket for a session whose family of tickets was revoked.
    case ticketFamilyRevoked
}

public enum DeliveryOutcome: UInt8, Equatable, Sendable {
    case delivered, recipientOffline, unknownRecipient, unavailable
}
