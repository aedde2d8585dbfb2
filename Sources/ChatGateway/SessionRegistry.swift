import Synchronization

/// The connections of this gateway, by id: where the bus thread finds the target of a push.
/// The event loops add and remove; the bus thread looks up.
final class SessionRegistry: Sendable {
    private let connections = Mutex<[UInt64: ClientConnection]>([:])

    func add(_ connection: ClientConnection) {
        connections.withLock { $0[connection.id] = connection }
    }

    func remove(_ id: UInt64) {
        connections.withLock { _ = $0.removeValue(forKey: id) }
    }

    func connection(_ id: UInt64) -> ClientConnection? {
        connections.withLock { $0[id] }
    }
}
