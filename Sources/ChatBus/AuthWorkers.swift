/// The auth workers a process asks (`auth.endpoints`), one dealer socket each: a request goes
/// to the worker its uid hashes to, so an account's sign-ins, failures and quota always meet
/// the same worker's counts while that worker is up; one that is gone (its connection lost)
/// is skipped for the next in turn. Loop thread only.
public struct AuthWorkers {
    public let sockets: [BusLoop.SocketID]

    /// Connects a dealer to each endpoint (`auth`, or `auth-i` when there are several).
    public init(loop: BusLoop, endpoints: [String]) throws {
        precondition(!endpoints.isEmpty)
        sockets = try endpoints.enumerated().map { index, endpoint in
            try loop.connectDealer(endpoint, worker: endpoints.count == 1 ? "auth" : "auth-\(index)")
        }
    }

    /// The socket for a request about `uid`: the uid's worker, or the next one up.
    public func socket(for uid: String, on loop: BusLoop) -> BusLoop.SocketID {
        let start = Self.worker(for: uid, among: sockets.count)
        for step in 0..<sockets.count {
            let socket = sockets[(start + step) % sockets.count]
            if !loop.isPeerLost(on: socket) { return socket }
        }
        return sockets[start]
    }

    /// The socket for `message`, an auth request, by the uid it is about.
    public func socket(for message: BusMessage, on loop: BusLoop) -> BusLoop.SocketID {
        socket(for: Self.uid(of: message), on: loop)
    }

    /// Which of `count` workers a uid goes to first: FNV-1a, the same in every process.
    static func worker(for uid: String, among count: Int) -> Int {
        let hash = uid.utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
        return Int(hash % UInt64(count))
    }

    /// The uid an auth request is about (every one is about one).
    static func uid(of message: BusMessage) -> String {
        switch message {
        case .signUp(let uid, _), .signIn(let uid, _), .signInFrom(let uid, _, _), .signUpFrom(let uid, _, _),
             .userExists(let uid), .reserveStorage(let uid, _), .releaseStorage(let uid, _), .issueTicket(let uid, _),
             .resumeFrom(let uid, _, _), .revokeTickets(let uid, _):
            return uid
        case .addFriend(let owner, _), .listFriends(let owner):
            return owner
        default:
            return ""
        }
    }
}
