import ChatBus

/// Who is online, on which gateway and connection. Pure bookkeeping: the router decides
/// with it, and its tests need no sockets.
struct PresenceTable {
    struct Location: Equatable {
        let gateway: [UInt8]
        let entry: PresenceEntry
    }

    private(set) var byUser: [String: Location] = [:]

    /// Records the newest sign-in and returns the location it displaced, if on another connection.
    mutating func attach(_ entry: PresenceEntry, on gateway: [UInt8]) -> Location? {
        let location = Location(gateway: gateway, entry: entry)
        let previous = byUser.updateValue(location, forKey: entry.uid)
        guard let previous, previous != location else { return nil }
        return previous
    }

    /// Removes the user only if still signed in on that same connection: a detach that races
    /// a newer sign-in must not log the newer one out.
    mutating func detach(uid: String, connection: UInt64, on gateway: [UInt8]) {
        guard let current = byUser[uid], current.gateway == gateway, current.entry.connection == connection else { return }
        byUser.removeValue(forKey: uid)
    }

    /// Forgets everyone on a gateway that went away.
    mutating func removeGateway(_ gateway: [UInt8]) {
        byUser = byUser.filter { $0.value.gateway != gateway }
    }

    func location(of uid: String) -> Location? { byUser[uid] }
}
