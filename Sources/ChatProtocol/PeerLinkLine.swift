/// The lines two clients exchange on a peer-to-peer link (docs/protocol.md), around the
/// sender's `<name>` line and the file's bytes. The name line is the file name alone, compared
/// with the one offered, so it is not one of these.
public enum PeerLinkLine: Equatable, Sendable {
    /// `P2P <token>`: what both sides send first; a connection that does not answer it is a
    /// stranger's, and is dropped.
    case hello(token: String)
    /// `GO`: the sender keeps this link (several may connect; both must keep the same one).
    case go
    /// `ok`: the receiver has the file, size and SHA-256 as offered.
    case received
    /// `bad`: it arrived otherwise; the receiver kept nothing.
    case damaged

    public init?(text: String) {
        switch text {
        case "GO": self = .go
        case "ok": self = .received
        case "bad": self = .damaged
        default:
            let words = text.split(separator: " ", omittingEmptySubsequences: false)
            guard words.count == 2, words[0] == "P2P", P2PCommand.isToken(words[1]) else { return nil }
            self = .hello(token: String(words[1]))
        }
    }

    /// The line without its `\n`.
    public var text: String {
        switch self {
        case .hello(let token): return "P2P \(token)"
        case .go: return "GO"
        case .received: return "ok"
        case .damaged: return "bad"
        }
    }
}
