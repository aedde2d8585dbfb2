import ChatBus
import Foundation

/// The connections of this gateway, by id: where the bus thread finds the target of a push
/// and what the gateway tells a restarted router about who is signed in.
final class SessionRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private var connections: [UInt64: ClientConnection] = [:]
    private var signedIn: [UInt64: PresenceEntry] = [:]

    func add(_ connection: ClientConnection) {
        lock.withLock { connections[connection.id] = connection }
    }

    func markSignedIn(_ entry: PresenceEntry) {
        lock.withLock { signedIn[entry.connection] = entry }
    }

    func remove(_ id: UInt64) {
        lock.withLock {
            connections.removeValue(forKey: id)
            signedIn.removeValue(forKey: id)
        }
    }

    func connection(_ id: UInt64) -> ClientConnection? {
        lock.withLock { connections[id] }
    }

    var sessions: [PresenceEntry] {
        lock.withLock { Array(signedIn.values) }
    }

    var count: Int { lock.withLock { connections.count } }
}
