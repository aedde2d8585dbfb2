/// Whether uids exist, asked of auth once each: users are never deleted, so a uid seen to
/// exist is cached for good. Look-ups for the same uid in flight together share one request
/// and answer in arrival order, so messages waiting on them keep their order. Loop thread only.
public final class KnownUsers {
    private let loop: BusLoop
    private let auth: AuthWorkers
    private var known: Set<String> = []
    private var waiting: [String: [(Bool?) -> Void]] = [:]

    public init(loop: BusLoop, auth: AuthWorkers) {
        self.loop = loop
        self.auth = auth
    }

    /// Calls `body` with whether `uid` exists, or nil when auth did not answer.
    public func whenExists(_ uid: String, _ body: @escaping (Bool?) -> Void) {
        if known.contains(uid) { return body(true) }
        if waiting[uid] != nil {
            waiting[uid]!.append(body)
            return
        }
        waiting[uid] = [body]
        loop.request(.userExists(uid: uid), on: auth.socket(for: uid, on: loop)) { [self] result in
            var exists: Bool?
            if case .success(.existence(let found)) = result { exists = found }
            if exists == true { known.insert(uid) }
            for body in waiting.removeValue(forKey: uid) ?? [] { body(exists) }
        }
    }

    /// Whether `uid` is known to exist, without asking: the common case, answered with no
    /// callback to allocate.
    public func contains(_ uid: String) -> Bool { known.contains(uid) }

    /// Records a uid known to exist without asking (it just signed in).
    public func insert(_ uid: String) { known.insert(uid) }
}
