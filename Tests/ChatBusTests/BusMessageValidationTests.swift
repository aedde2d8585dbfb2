import ChatBus
import Testing

/// Requests arriving over the bus are checked like client input before any worker acts on them.
@Suite struct BusMessageValidationTests {
    static let pair = PairKey("111111", "222222")
    static let sha = String(repeating: "ab", count: 32)
    static let token = String(repeating: "0f", count: 16)

    static let wellFormed: [BusMessage] = [
        .signUp(uid: "111111", password: "0123abc_"), .signIn(uid: "111111", password: "x"),
        .signInFrom(uid: "111111", password: "x", address: "2001:db8:1:2::/64"), .signUpFrom(uid: "111111", password: "x", address: "203.0.113.9"),
        .addFriend(owner: "111111", friend: "222222"), .listFriends(owner: "111111"), .userExists(uid: "111111"),
        .gatewayHello(gatewayId: "gw-1"),
        .presenceSync([PresenceEntry(uid: "111111", connection: 7, publicAddress: "203.0.113.5:40000")]),
        .detach(uid: "111111", connection: .max), .queryPresence(["111111", "222222"]),
        .notify(to: "222222", bytes: Array("x\n".utf8)), .announce(from: "111111", to: "222222", record: [1]),
        .storeAndDeliver(pair: pair, record: Array("111111 to 222222 202004131702 text\nhi\n".utf8), to: "222222", gatewayId: "gw"),
        .deliverStored(to: "222222", record: [10], gatewayId: "gw", requestId: 77),
        .openHistory(pair: pair), .readHistory(pair: pair, after: 0, through: 90, maxBytes: 256 * 1024),
        .beginUpload(pair: pair, header: [65, 10], name: "a b.txt", size: 1 << 40),
        .beginUpload(pair: pair, header: [65, 10], name: "202004131702_audio.ogg", size: 0),
        .uploadChunk(upload: 5, bytes: Array(repeating: 0, count: 256 * 1024)),
        .resumeUpload(pair: pair, header: [65, 10], name: "a b.txt", size: 10, upload: 5, received: 10),
        .openDownload(pair: pair, name: "a b (2).txt"), .readChunk(download: 7, offset: 1 << 33, length: 262_144),
        .push(connection: 3, bytes: []),
        .p2pOffer(from: "111111", to: "222222", size: 9, sha256: sha, name: "n m", privateEndpoint: "198.18.1.10:4000"),
        .p2pAccept(by: "222222", token: token, privateEndpoint: ""), .p2pDecline(by: "222222", token: token),
        .p2pRelayCheck(token: token, key: token),
        .reserveStorage(uid: "111111", bytes: 1 << 40), .releaseStorage(uid: "111111", bytes: 0),
        .issueTicket(uid: "111111", family: "0123456789abcdef"), .revokeTickets(uid: "111111", family: "0123456789abcdef"),
        .resumeFrom(uid: "111111", ticket: token, address: "203.0.113.9"), .resumed(family: "0123456789abcdef"),
    ]

    @Test(arguments: wellFormed)
    func wellFormedRequestsPass(_ message: BusMessage) {
        #expect(message.fieldProblem == nil)
    }

    static let hostile: [BusMessage] = [
        .signIn(uid: "../../etc", password: "x"), .signUp(uid: "111111", password: ""),
        .signUp(uid: "111111", password: String(repeating: "a", count: 129)), .signIn(uid: "111111", password: "a b"),
        .signInFrom(uid: "111111", password: "x", address: String(repeating: "1", count: 65)),
        .signInFrom(uid: "../../etc", password: "x", address: "203.0.113.9"), .signUpFrom(uid: "111111", password: "a b", address: "203.0.113.9"),
        .addFriend(owner: "111111", friend: "2222222"), .listFriends(owner: ""), .userExists(uid: "11111\n"),
        .gatewayHello(gatewayId: String(repeating: "g", count: 256)),
        .presenceSync([PresenceEntry(uid: "1", connection: 1, publicAddress: "a:1")]),
        .detach(uid: "x", connection: 1), .queryPresence(["111111", "bad"]),
        .notify(to: "222222", bytes: Array(repeating: 65, count: 256 * 1024 + 1)),
        .storeAndDeliver(pair: PairKey("111111", "../x"), record: [10], to: "111111", gatewayId: "gw"),
        .storeAndDeliver(pair: pair, record: [10], to: "333333", gatewayId: "gw"),
        .deliverStored(to: "", record: [10], gatewayId: "gw", requestId: 1),
        .openHistory(pair: PairKey("", "")), .readHistory(pair: pair, after: 9, through: 3, maxBytes: 1),
        .readHistory(pair: pair, after: -1, through: 3, maxBytes: 1), .readHistory(pair: pair, after: 0, through: 3, maxBytes: .max),
        .beginUpload(pair: pair, header: [10], name: "../../etc/passwd", size: 1),
        .beginUpload(pair: pair, header: [10], name: "a", size: -1),
        .beginUpload(pair: pair, header: [10], name: "..", size: 1),
        .resumeUpload(pair: pair, header: [10], name: "a", size: 10, upload: 5, received: 11),
        .resumeUpload(pair: pair, header: [10], name: "a", size: 10, upload: 5, received: -1),
        .resumeUpload(pair: pair, header: [10], name: "../a", size: 10, upload: 5, received: 0),
        .uploadChunk(upload: 1, bytes: Array(repeating: 0, count: (1 << 20) + 1)),
        .openDownload(pair: pair, name: "a/b"), .readChunk(download: 1, offset: .min, length: 1),
        .readChunk(download: 1, offset: 0, length: .max),
        .p2pOffer(from: "111111", to: "222222", size: -5, sha256: sha, name: "n", privateEndpoint: ""),
        .p2pOffer(from: "111111", to: "222222", size: 5, sha256: "AB", name: "n", privateEndpoint: ""),
        .p2pOffer(from: "111111", to: "222222", size: 5, sha256: sha, name: "a\u{1b}[2J", privateEndpoint: ""),
        .p2pAccept(by: "222222", token: "../", privateEndpoint: ""), .p2pRelayCheck(token: String(repeating: "0", count: 33), key: token),
        .p2pRelayCheck(token: token, key: ""), .p2pRelayCheck(token: token, key: token.uppercased()),
        .reserveStorage(uid: "111111", bytes: -1), .reserveStorage(uid: "1", bytes: 1), .releaseStorage(uid: "111111", bytes: .min),
        .issueTicket(uid: "111111", family: ""), .issueTicket(uid: "111111", family: "0123456789ABCDEF"),
        .revokeTickets(uid: "111111", family: "0123456789abcdef0"), .revokeTickets(uid: "1", family: "0123456789abcdef"),
        .resumed(family: "../etc/passwd.."),
    ]

    @Test(arguments: hostile)
    func outOfRangeFieldsAreNamed(_ message: BusMessage) {
        #expect(message.fieldProblem != nil)
    }
}
