import ChatProtocol

/// Bus fields are hostile input: whatever can reach a worker's socket can send any bytes, so a
/// decoded request is checked against the same rules the gateway applies to clients before any
/// worker acts on it (`BusLoop` refuses it with a `failure`). The decoder already guarantees
/// the shape; this checks the values.
extension BusMessage {
    /// Bounds that no message from our own processes comes near.
    public enum FieldLimits {
        /// A stored record or a push: a command line of at most 64 KiB and a name or two.
        public static let recordBytes = 256 * 1024
        /// Upload chunks are 256 KiB; downloads ask for no more.
        public static let chunkBytes = 1 << 20
        /// A history page asked for at once (`gateway.history_page_bytes` is at most this).
        public static let historyPageBytes = 16 << 20
        /// Gateway ids, transfer tokens, endpoints: short identifiers.
        public static let shortString = 255
        /// A client address as auth counts sign-ins by: an IPv4 address is at most 15 bytes, an
        /// IPv6 /64 (`ffff:ffff:ffff:ffff::/64`) at most 24; the rest is headroom.
        public static let clientAddressBytes = 64
    }

    /// Why this request or one-way message cannot be acted on, or nil when every field is in
    /// range. Answers (`authOutcome`, `chunk`, ...) are checked by whoever asked for them.
    public var fieldProblem: String? {
        switch self {
        case .signUp(let uid, let password), .signIn(let uid, let password):
            return Self.uidProblem(uid) ?? (Identifiers.isValidWirePassword(password) ? nil : "password out of range")
        case .signInFrom(let uid, let password, let address), .signUpFrom(let uid, let password, let address):
            if let problem = Self.uidProblem(uid) { return problem }
            if !Identifiers.isValidWirePassword(password) { return "password out of range" }
            return address.utf8.count <= FieldLimits.clientAddressBytes ? nil : "address too long"
        case .addFriend(let owner, let friend):
            return Self.uidProblem(owner) ?? Self.uidProblem(friend)
        case .listFriends(let uid), .userExists(let uid):
            return Self.uidProblem(uid)
        case .gatewayHello(let gatewayId):
            return Self.shortStringProblem(gatewayId, "gateway id")
        case .presenceSync(let entries):
            return entries.lazy.compactMap(\.fieldProblem).first
        case .attach(let entry):
            return entry.fieldProblem
        case .detach(let uid, _):
            return Self.uidProblem(uid)
        case .queryPresence(let uids):
            return uids.lazy.compactMap(Self.uidProblem).first
        case .notify(let to, let bytes):
            return Self.uidProblem(to) ?? Self.recordProblem(bytes)
        case .announce(let from, let to, let record):
            return Self.uidProblem(from) ?? Self.uidProblem(to) ?? Self.recordProblem(record)
        case .storeAndDeliver(let pair, let record, let to, let gatewayId):
            return Self.pairProblem(pair) ?? Self.recipientProblem(to, in: pair) ?? Self.recordProblem(record)
                ?? Self.shortStringProblem(gatewayId, "gateway id")
        case .deliverStored(let to, let record, let gatewayId, _):
            return Self.uidProblem(to) ?? Self.recordProblem(record) ?? Self.shortStringProblem(gatewayId, "gateway id")
        case .openHistory(let pair):
            return Self.pairProblem(pair)
        case .readHistory(let pair, let after, let through, let maxBytes):
            if let problem = Self.pairProblem(pair) { return problem }
            if after < 0 || through < after { return "record range out of order" }
            return Int(maxBytes) <= FieldLimits.historyPageBytes ? nil : "page too large"
        case .beginUpload(let pair, let header, let name, let size):
            if let problem = Self.pairProblem(pair) ?? Self.recordProblem(header) ?? Self.storedNameProblem(name) { return problem }
            return size >= 0 ? nil : "negative size"
        case .resumeUpload(let pair, let header, let name, let size, _, let received):
            if let problem = Self.pairProblem(pair) ?? Self.recordProblem(header) ?? Self.storedNameProblem(name) { return problem }
            if size < 0 { return "negative size" }
            return (0...size).contains(received) ? nil : "received out of range"
        case .uploadChunk(_, let bytes):
            return bytes.count <= FieldLimits.chunkBytes ? nil : "chunk too large"
        case .openDownload(let pair, let name):
            return Self.pairProblem(pair) ?? Self.storedNameProblem(name)
        case .readChunk(_, let offset, let length):
            if offset < 0 { return "negative offset" }
            return Int(length) <= FieldLimits.chunkBytes ? nil : "chunk too large"
        case .push(_, let bytes), .deliveredPush(_, let bytes):
            return Self.recordProblem(bytes)
        case .p2pOffer(let from, let to, let size, let sha256, let name, let privateEndpoint):
            if let problem = Self.uidProblem(from) ?? Self.uidProblem(to) { return problem }
            if size < 0 { return "negative size" }
            if !P2PCommand.isSHA256(sha256) { return "sha256 out of range" }
            if !FileNames.isValidFileName(Array(name.utf8)) { return "file name out of range" }
            return Self.shortStringProblem(privateEndpoint, "endpoint")
        case .p2pAccept(let by, let token, let privateEndpoint):
            return Self.uidProblem(by) ?? Self.tokenProblem(token) ?? Self.shortStringProblem(privateEndpoint, "endpoint")
        case .p2pDecline(let by, let token):
            return Self.uidProblem(by) ?? Self.tokenProblem(token)
        case .p2pRelayCheck(let token, let key):
            return Self.tokenProblem(token) ?? (P2PCommand.isToken(key) ? nil : "relay key out of range")
        case .issueTicket(let uid, let family), .revokeTickets(let uid, let family):
            return Self.uidProblem(uid) ?? Self.ticketFamilyProblem(family)
        case .resumed(let family):
            return Self.ticketFamilyProblem(family)
        case .resumeFrom(let uid, let ticket, let address):
            // A malformed ticket is checked at the gateway; here it is only bounded.
            return Self.uidProblem(uid) ?? Self.shortStringProblem(ticket, "ticket") ?? Self.shortStringProblem(address, "address")
        case .ticket(let ticket):
            return Identifiers.isResumeTicket(ticket) ? nil : "ticket out of range"
        case .reserveStorage(let uid, let bytes), .releaseStorage(let uid, let bytes):
            return Self.uidProblem(uid) ?? (bytes >= 0 ? nil : "negative size")
        case .finishUpload, .abortUpload, .closeDownload, .kick:
            // Ids the worker looks up; an unknown one is answered as such.
            return nil
        case .authOutcome, .friendList, .existence, .routerWelcome, .attached, .delivery, .presence, .historySnapshot, .historyPage,
             .uploadReady, .chunkStored, .stored, .downloadReady, .noSuchFile, .chunk, .p2pOffered, .p2pConnect,
             .p2pDeclined, .p2pUnknown, .p2pRelayAllowed, .p2pTooManyOffers, .storageReservation, .signInThrottled,
             .signUpThrottled, .failure, .partitionMapWanted:
            return nil
        case .partitionMoved:
            // Checked whole as it is decoded (`PartitionMap.init(decoding:)`).
            return nil
        }
    }

    private static func uidProblem(_ uid: String) -> String? {
        Identifiers.isValidUID(uid) ? nil : "uid out of range"
    }

    private static func pairProblem(_ pair: PairKey) -> String? {
        uidProblem(pair.low) ?? uidProblem(pair.high)
    }

    private static func recipientProblem(_ uid: String, in pair: PairKey) -> String? {
        uid == pair.low || uid == pair.high ? nil : "recipient not in the pair"
    }

    private static func recordProblem(_ bytes: [UInt8]) -> String? {
        bytes.count <= FieldLimits.recordBytes ? nil : "record too large"
    }

    private static func storedNameProblem(_ name: String) -> String? {
        FileNames.isValidStoredName(Array(name.utf8)) ? nil : "file name out of range"
    }

    private static func tokenProblem(_ token: String) -> String? {
        P2PCommand.isToken(token) ? nil : "token out of range"
    }

    private static func ticketFamilyProblem(_ family: String) -> String? {
        Identifiers.isTicketFamily(family) ? nil : "ticket family out of range"
    }

    private static func shortStringProblem(_ value: String, _ what: String) -> String? {
        value.utf8.count <= FieldLimits.shortString ? nil : "\(what) too long"
    }
}

extension PresenceEntry {
    var fieldProblem: String? {
        if !Identifiers.isValidUID(uid) { return "uid out of range" }
        return publicAddress.utf8.count <= BusMessage.FieldLimits.shortString ? nil : "address too long"
    }
}
