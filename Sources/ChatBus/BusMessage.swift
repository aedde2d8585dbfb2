/// Every message that travels between the chat processes, defined in this one place.
///
/// Requests and their replies are paired by the envelope's `requestId`; the comment on each
/// case names who sends it to whom.
public enum BusMessage: Equatable, Sendable {
    // MARK: gateway -> auth
    case signUp(uid: String, password: String)
    case signIn(uid: String, password: String)
    case addFriend(owner: String, friend: String)
    case listFriends(owner: String)
    // MARK: gateway or router -> auth
    case userExists(uid: String)
    // MARK: auth -> requester
    case authOutcome(AuthOutcome)
    case friendList([String])
    case existence(Bool)

    // MARK: gateway -> router
    /// Heartbeat, every second; a router that does not know the gateway answers `needsSync`.
    case gatewayHello(gatewayId: String)
    /// Everything signed in on a gateway, sent after a router (re)start.
    case presenceSync([PresenceEntry])
    case attach(PresenceEntry)
    case detach(uid: String, connection: UInt64)
    /// `record` is the message exactly as it is stored and pushed.
    case deliver(from: String, to: String, record: [UInt8])
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

    // MARK: router or gateway -> storage
    case appendRecord(pair: PairKey, record: [UInt8])
    case fetchHistory(pair: PairKey)
    // MARK: storage -> requester
    case appended
    /// Every record of the pair, oldest first, concatenated.
    case history([UInt8])

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
}

public enum DeliveryOutcome: UInt8, Equatable, Sendable {
    case delivered, recipientOffline, unknownRecipient, unavailable
}
