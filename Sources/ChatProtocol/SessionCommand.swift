/// A command of a signed-in connection, already checked against the protocol's rules.
public enum SessionCommand: Equatable, Sendable {
    /// The first line of a two-line message; its second line follows.
    case message(MessageHeader)
    case historyAll(peer: String)
    case historyFile(peer: String, name: String)
    case addFriend(peer: String)
    case friends
    /// Not in the contract: `<uid> ticket` asks for a resumption ticket (docs/protocol.md).
    case resumeTicket
    case offline
    case p2p(P2PCommand)
}

/// What parsing a session line gives: a command, or the single reply that refuses it.
public enum SessionLine: Equatable, Sendable {
    case command(SessionCommand)
    /// Refused; the connection stays in the session phase.
    case refused(ServerReply)
    /// Refused, but it was the first line of a two-line command, so the next line belongs to
    /// it and must be read and dropped rather than taken for a command.
    case refusedTwoLine(ServerReply)
}
