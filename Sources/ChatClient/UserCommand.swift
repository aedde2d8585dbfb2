import ChatProtocol

/// What a person types into the client, checked before anything is sent.
public enum UserCommand: Equatable, Sendable {
    case signUp(uid: String, password: String)
    case signIn(uid: String, password: String)
    /// `peer` nil: send to the current peer (set by `/to <uid>`).
    case send(peer: String?, text: String)
    case setPeer(String)
    case history(peer: String)
    case sendFile(peer: String, path: String)
    case sendVoice(peer: String, path: String)
    /// Download a file from the history with `peer` into the downloads folder.
    case get(peer: String, name: String)
    /// Send a file directly to `peer` (peer-to-peer), the server only introducing the two.
    case p2p(peer: String, path: String)
    case accept(token: String)
    case decline(token: String)
    /// Wait until `count` peer-to-peer transfers have ended (for scripts).
    case waitForTransfers(count: Int, seconds: Double)
    case addFriend(String)
    case friends
    case wait(seconds: Double)
    case help
    /// Leave: signing out (`offline`) unless a ticket file keeps the session for the next run.
    case quit
    /// Sign out (this device's resumption tickets stop working) and leave.
    case signOut

    /// Parses one input line; the error says in words what is wrong with it.
    public static func parse(_ line: String) -> Result<UserCommand, UserInputError> {
        guard line.hasPrefix("/") else {
            return line.isEmpty ? .failure(.empty) : .success(.send(peer: nil, text: line))
        }
        let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true).map(String.init)
        let name = parts[0], arguments = Array(parts.dropFirst())
        switch (name, arguments.count) {
        case ("/signup", 2), ("/signin", 2):
            guard Identifiers.isValidUID(arguments[0]) else { return .failure(.badUID(arguments[0])) }
            guard Identifiers.isValidWirePassword(arguments[1]) else { return .failure(.badPassword) }
            return .success(name == "/signup" ? .signUp(uid: arguments[0], password: arguments[1])
                                              : .signIn(uid: arguments[0], password: arguments[1]))
        case ("/to", 1):
            guard Identifiers.isValidUID(arguments[0]) else { return .failure(.badUID(arguments[0])) }
            return .success(.setPeer(arguments[0]))
        case ("/to", 2):
            guard Identifiers.isValidUID(arguments[0]) else { return .failure(.badUID(arguments[0])) }
            return .success(.send(peer: arguments[0], text: arguments[1]))
        case ("/file", 2), ("/voice", 2), ("/get", 2):
            guard Identifiers.isValidUID(arguments[0]) else { return .failure(.badUID(arguments[0])) }
            switch name {
            case "/file": return .success(.sendFile(peer: arguments[0], path: arguments[1]))
            case "/voice": return .success(.sendVoice(peer: arguments[0], path: arguments[1]))
            default: return .success(.get(peer: arguments[0], name: arguments[1]))
            }
        case ("/p2p", 2):
            guard Identifiers.isValidUID(arguments[0]) else { return .failure(.badUID(arguments[0])) }
            return .success(.p2p(peer: arguments[0], path: arguments[1]))
        case ("/accept", 1), ("/decline", 1):
            guard P2PCommand.isToken(arguments[0]) else { return .failure(.usage(name)) }
            return .success(name == "/accept" ? .accept(token: arguments[0]) : .decline(token: arguments[0]))
        case ("/wait-p2p", 2):
            let rest = arguments[1].split(separator: " ")
            guard let count = Int(arguments[0]), rest.count == 1, let seconds = Double(rest[0]) else { return .failure(.usage(name)) }
            return .success(.waitForTransfers(count: count, seconds: seconds))
        case ("/history", 1), ("/friend", 1):
            guard Identifiers.isValidUID(arguments[0]) else { return .failure(.badUID(arguments[0])) }
            return .success(name == "/history" ? .history(peer: arguments[0]) : .addFriend(arguments[0]))
        case ("/friends", 0): return .success(.friends)
        case ("/wait", 1):
            guard let seconds = Double(arguments[0]), seconds >= 0, seconds <= 3600 else { return .failure(.usage(name)) }
            return .success(.wait(seconds: seconds))
        case ("/help", 0): return .success(.help)
        case ("/quit", 0): return .success(.quit)
        case ("/signout", 0): return .success(.signOut)
        case ("/signup", _), ("/signin", _), ("/to", _), ("/history", _), ("/friend", _), ("/friends", _), ("/wait", _),
             ("/file", _), ("/voice", _), ("/get", _), ("/p2p", _), ("/accept", _), ("/decline", _), ("/wait-p2p", _):
            return .failure(.usage(name))
        default:
            return .failure(.unknownCommand(name))
        }
    }

    public static let helpText = """
        /signup <uid> <password>   create an account (uid: 6 digits; password: letters, digits, _)
        /signin <uid> <password>   sign in
        /to <uid> <text>           send a message (and make <uid> the current peer)
        /to <uid>                  make <uid> the current peer; then plain lines go to it
        /history <uid>             show your history with <uid>
        /p2p <uid> <path>          send a file directly to <uid> (both online; the server only introduces you)
        /accept <token>            accept a direct transfer offered to you
        /decline <token>           decline it
        /file <uid> <path>         send a file through the server
        /voice <uid> <path>        send a voice message (an audio file; its extension is kept)
        /get <uid> <name>          download a file or voice message from your history with <uid>
        /friend <uid>              add <uid> to your friends
        /friends                   list your friends and who is online
        /wait <seconds>            pause (for scripts waiting for messages)
        /quit                      go offline and leave (with --ticket-file: stay signed in for the next run)
        /signout                   go offline, end this device's saved session, and leave
        """
}

public enum UserInputError: Error, Equatable, CustomStringConvertible {
    case empty
    case badUID(String)
    case badPassword
    case usage(String)
    case unknownCommand(String)
    case notSignedIn
    case noPeer
    case tooLong
    case unreadableFile(String)
    case badFileName(String)

    public var description: String {
        switch self {
        case .empty: return "nothing to send"
        case .badUID(let uid): return "'\(uid)' is not a uid: a uid is exactly 6 digits"
        case .badPassword: return "a password is 1 to 128 letters, digits or underscores"
        case .usage(let name): return "wrong arguments for \(name); /help lists the commands"
        case .unknownCommand(let name): return "unknown command \(name); /help lists the commands"
        case .notSignedIn: return "sign in first (/signin <uid> <password>)"
        case .noPeer: return "no current peer: use /to <uid> <text> first"
        case .tooLong: return "message too long (64 KiB at most)"
        case .unreadableFile(let path): return "cannot read \(path)"
        case .badFileName(let name): return "'\(name)' cannot be sent as a file name (1-255 bytes, no / \\ or control characters)"
        }
    }
}
