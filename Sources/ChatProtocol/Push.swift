/// What the server sends a signed-in user unasked. Every push starts with `uid1 to uid2`, a
/// form no reply takes, so a client tells pushes from replies by their first line
/// (`PushFirstLine`). Every push ends its lines with `\n` alone.
public enum Push: Equatable, Sendable {
    /// A text, audio or file message for its recipient: its history record, byte for byte.
    case message(HistoryRecord)
    /// `uid1 to uid2 addFriend`: uid1 made uid2 a friend.
    case addFriend(from: String, to: String)
    /// `A to B p2p offer <token> <size> <sha256> <name>`: A offers B a direct transfer.
    case p2pOffer(from: String, to: String, token: String, size: Int64, sha256: String, name: String)
    /// `B to A p2p connect <token> <B public> <B private> <relay key>`: B accepted A's offer;
    /// where B is, and A's own key should the relay be needed.
    case p2pConnect(from: String, to: String, token: String, peerPublic: String, peerPrivate: String, relayKey: String)
    /// `B to A p2p declined <token>`: B turned A's offer down.
    case p2pDeclined(from: String, to: String, token: String)

    /// The user the push comes from: uid1.
    public var sender: String {
        switch self {
        case .message(let record): return record.header.sender
        case .addFriend(let from, _), .p2pOffer(let from, _, _, _, _, _), .p2pConnect(let from, _, _, _, _, _),
             .p2pDeclined(let from, _, _):
            return from
        }
    }

    /// The push as sent, its last `\n` included.
    public var bytes: [UInt8] {
        switch self {
        case .message(let record):
            return record.bytes
        case .addFriend(let from, let to):
            return Array("\(from) to \(to) addFriend\n".utf8)
        case .p2pOffer(let from, let to, let token, let size, let sha256, let name):
            return Array("\(from) to \(to) p2p offer \(token) \(size) \(sha256) \(name)\n".utf8)
        case .p2pConnect(let from, let to, let token, let peerPublic, let peerPrivate, let relayKey):
            return Array("\(from) to \(to) p2p connect \(token) \(peerPublic) \(peerPrivate) \(relayKey)\n".utf8)
        case .p2pDeclined(let from, let to, let token):
            return Array("\(from) to \(to) p2p declined \(token)\n".utf8)
        }
    }
}
