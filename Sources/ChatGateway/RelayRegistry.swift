import Synchronization

/// Relay connections waiting for their partner, by transfer token. The first of a pair
/// waits here; the second takes it out and the two are spliced together. Connections on
/// any event loop use it.
final class RelayRegistry: Sendable {
    private let waiting = Mutex<[String: ClientConnection]>([:])

    /// The partner already waiting for `token`, or nil after registering `connection` to wait.
    func join(_ token: String, _ connection: ClientConnection) -> ClientConnection? {
        waiting.withLock { waiting in
            if let partner = waiting.removeValue(forKey: token), partner !== connection { return partner }
            waiting[token] = connection
            return nil
        }
    }

    func leave(_ token: String, _ connection: ClientConnection) {
        waiting.withLock { waiting in
            if waiting[token] === connection { waiting.removeValue(forKey: token) }
        }
    }
}
