import Foundation

/// Relay connections waiting for their partner, by transfer token. The first of a pair
/// waits here; the second takes it out and the two are spliced together.
final class RelayRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private var waiting: [String: ClientConnection] = [:]

    /// The partner already waiting for `token`, or nil after registering `connection` to wait.
    func join(_ token: String, _ connection: ClientConnection) -> ClientConnection? {
        lock.withLock {
            if let partner = waiting.removeValue(forKey: token), partner !== connection { return partner }
            waiting[token] = connection
            return nil
        }
    }

    func leave(_ token: String, _ connection: ClientConnection) {
        lock.withLock {
            if waiting[token] === connection { waiting.removeValue(forKey: token) }
        }
    }
}
