/// Every line a client sends the server, spelled exactly as the server's parsers
/// (`LoginCommand`, `SessionCommandParser`, `DataAnswer`) read it.
public enum ClientCommand: Equatable, Sendable {
    /// `password` is the wire password (our client's: `WirePassword.derive`), never the typed one.
    case signUp(uid: String, password: String)
    case signIn(uid: String, password: String)
    /// Extensions (docs/protocol.md, "Session resumption"): signing in with a ticket, and
    /// asking for one once signed in.
    case resume(uid: String, ticket: String)
    case resumeTicket(uid: String)
    case offline
    /// A new connection's first line, to join the relay of an accepted peer-to-peer transfer;
    /// `key` is this side's relay key, from its own `p2p connect` (reply or push).
    case p2pRelay(token: String, key: String)
    /// Two lines: the header, then the text's content or the audio or file name (for those the
    /// bytes follow after the server's go-ahead `ok`).
    case message(header: MessageHeader, body: String)
    case historyAll(uid: String, peer: String)
    case historyFile(uid: String, peer: String, name: String)
    case addFriend(uid: String, peer: String)
    case friends(uid: String)
    case p2p(uid: String, P2PCommand)
    case dataAnswer(DataAnswer)

    /// The command's line (two for a message), without the final `\n`.
    public var text: String {
        switch self {
        case .signUp(let uid, let password): return "signup \(uid) \(password)"
        case .signIn(let uid, let password): return "signin \(uid) \(password)"
        case .resume(let uid, let ticket): return "resume \(uid) \(ticket)"
        case .resumeTicket(let uid): return "\(uid) ticket"
        case .offline: return "offline"
        case .p2pRelay(let token, let key): return "p2p relay \(token) \(key)"
        case .message(let header, let body): return String(decoding: header.line, as: UTF8.self) + "\n" + body
        case .historyAll(let uid, let peer): return "\(uid) history \(peer) all"
        case .historyFile(let uid, let peer, let name): return "\(uid) history \(peer) filename \(name)"
        case .addFriend(let uid, let peer): return "\(uid) to \(peer) addFriend"
        case .friends(let uid): return "\(uid) friends"
        case .p2p(let uid, let command): return "\(uid) p2p \(command.arguments)"
        case .dataAnswer(let answer): return answer.text
        }
    }

    /// The command as sent, its final `\n` included.
    public var bytes: [UInt8] {
        if case .message(let header, let body) = self { return HistoryRecord.bytes(headerLine: header.line, body: body.utf8) }
        return Array((text + "\n").utf8)
    }
}
