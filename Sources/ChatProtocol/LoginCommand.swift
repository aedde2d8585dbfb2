/// A command a connection may send before it has signed in.
public enum LoginCommand: Equatable, Sendable {
    case signUp(uid: String, password: String)
    case signIn(uid: String, password: String)
    /// Not in the contract: a sign-in with a resumption ticket instead of the password
    /// (`resume <uid> <ticket>`, docs/protocol.md).
    case resume(uid: String, ticket: String)
    case offline
    /// A relay connection for a peer-to-peer transfer that could not connect directly. `key`
    /// proves which side it is; nil in the keyless form of earlier clients, which no relay grants.
    case p2pRelay(token: String, key: String?)

    /// Nil for anything else, which the server answers with `Wrong sign command`.
    public init?(line: [UInt8]) {
        guard let text = String(validating: line, as: UTF8.self) else { return nil }
        if text == "offline" { self = .offline; return }
        let words = text.split(separator: " ", omittingEmptySubsequences: false)
        if (3...4).contains(words.count), words[0] == "p2p", words[1] == "relay", P2PCommand.isToken(words[2]) {
            guard words.count == 4 else {
                self = .p2pRelay(token: String(words[2]), key: nil)
                return
            }
            guard P2PCommand.isToken(words[3]) else { return nil }
            self = .p2pRelay(token: String(words[2]), key: String(words[3]))
            return
        }
        guard words.count == 3, Identifiers.isValidUID(words[1]), Identifiers.isValidWirePassword(words[2]) else {
            return nil
        }
        let uid = String(words[1]), password = String(words[2])
        switch words[0] {
        case "signup": self = .signUp(uid: uid, password: password)
        case "signin": self = .signIn(uid: uid, password: password)
        case "resume" where Identifiers.isResumeTicket(password): self = .resume(uid: uid, ticket: password)
        default: return nil
        }
    }
}
