/// Every line the server answers with, spelled exactly as the protocol spells it (typos and
/// double spaces included: clients match these bytes).
public enum ServerReply: Equatable, Sendable {
    case signUpSucceeded
    case uidAlreadyExists
    case signInSucceeded
    case uidNotExits
    case wrongPassword
    case wrongSignCommand
    case wrongInteractCommand
    case permissionDenied
    case ok
    case targetUserOffline
    case fileTooLarge
    case invalidFileName
    case noHistoryYet
    case noSuchFile
    case serviceUnavailable
    case messageTooLong
    case signedInElsewhere
    /// Not in the contract: a sign-in refused unchecked, its address or account having failed
    /// too often lately (docs/protocol.md).
    case tooManyFailedSignIns
    /// Not in the contract: a sign-up refused unchecked, its address having signed up its
    /// allowance of accounts lately (docs/protocol.md).
    case tooManySignUps
    /// An upload would take its sender past the stored bytes allowed per user (not in the
    /// contract: docs/protocol.md).
    case storageQuotaExceeded
    /// Not in the contract: a new connection past the gateway's connection limits, just before it is closed.
    case tooManyConnections
    /// Peer-to-peer: the offer was pushed to the peer under this token.
    case p2pOffered(token: String)
    /// Peer-to-peer: connect to the peer at these endpoints (public as the server saw it, private
    /// as reported); `relayKey` is this side's own key for `p2p relay`.
    case p2pConnect(token: String, peerPublic: String, peerPrivate: String, relayKey: String)
    case noSuchTransfer
    /// Peer-to-peer: the offerer is over its offer rate or its live offers; nothing was offered.
    case tooManyOffers
    /// A relay connection found its partner: raw bytes follow, both ways.
    case p2pRelayReady
    /// Announces a download of `byteCount` bytes; the client answers `ok` to receive them.
    case dataSize(Int)
    /// `friends` then ` <uid>:online` / ` <uid>:offline` for each friend, in uid order.
    case friends([(uid: String, online: Bool)])
    /// Not in the contract: `ticket <32 hex digits>`, a resumption ticket (docs/protocol.md).
    case resumeTicket(String)

    public var text: String {
        switch self {
        case .signUpSucceeded: return "signup successfully"
        case .uidAlreadyExists: return "uid already exists"
        case .signInSucceeded: return "signin successfully"
        case .uidNotExits: return "uid not exits"
        case .wrongPassword: return "Wrong Password"
        case .wrongSignCommand: return "Wrong sign command"
        case .wrongInteractCommand: return "Wrong  interact command"
        case .permissionDenied: return "Permission denied"
        case .ok: return "ok"
        case .targetUserOffline: return "Target user offline"
        case .fileTooLarge: return "File too large"
        case .invalidFileName: return "Invalid file name"
        case .noHistoryYet: return "you two have no history yet"
        case .noSuchFile: return "No such file"
        case .serviceUnavailable: return "Service unavailable"
        case .messageTooLong: return "Message too long"
        case .signedInElsewhere: return "Signed in elsewhere"
        case .tooManyFailedSignIns: return "Too many failed sign-ins, try again later"
        case .tooManySignUps: return "Too many sign-ups, try again later"
        case .storageQuotaExceeded: return "Storage quota exceeded"
        case .tooManyConnections: return "Too many connections"
        case .p2pOffered(let token): return "p2p offered \(token)"
        case .p2pConnect(let token, let peerPublic, let peerPrivate, let relayKey):
            return "p2p connect \(token) \(peerPublic) \(peerPrivate) \(relayKey)"
        case .noSuchTransfer: return "No such transfer"
        case .tooManyOffers: return "Too many offers, try again later"
        case .p2pRelayReady: return "p2p relay ready"
        case .dataSize(let count): return "server_data_size\(count)"
        case .friends(let entries):
            return entries.reduce("friends") { $0 + " \($1.uid):\($1.online ? "online" : "offline")" }
        case .resumeTicket(let ticket): return "ticket \(ticket)"
        }
    }

    /// The reply as sent: its text and `\n`. The replies every message gets are built once.
    public var line: [UInt8] {
        switch self {
        case .ok: return Self.okLine
        case .targetUserOffline: return Self.targetUserOfflineLine
        default: return Array((text + "\n").utf8)
        }
    }

    private static let okLine = Array("ok\n".utf8)
    private static let targetUserOfflineLine = Array("Target user offline\n".utf8)

    public static func == (lhs: ServerReply, rhs: ServerReply) -> Bool { lhs.text == rhs.text }
}
