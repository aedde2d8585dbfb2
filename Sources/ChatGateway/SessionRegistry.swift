import ChatBus
import Foundation

/// The connections of this gateway, by id: where the bus thread finds the target of a push.
final class SessionRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private var connections: [UInt64: ClientConnection] = [:]

    func add(_ connection: ClientConnection) {
        lock.withLock { connections[connection.id] = connection }
    }

    func remove(_ id: UInt64) {
        lock.withLock { _ = connections.removeValue(forKey: id) }
    }

    func connection(_ id: UInt64) -> ClientConnection? {
        lock.withLock { connections[id] }
    }

}
