import ChatBus
import Dispatch

/// Peer-to-peer transfers the router has introduced, by token. The router only introduces:
/// it tells each side where the other is, and never sees the file.
struct P2PIntroductions {
    struct Transfer {
        let sender: String
        let receiver: String
        let senderPublic: String
        let senderPrivate: String
        let created: UInt64
        var accepted = false
    }

    /// An introduction is good for this long: time to accept, connect, and pair relay connections.
    static let lifetimeNanos: UInt64 = 600_000_000_000

    private(set) var transfers: [String: Transfer] = [:]

    /// 128 random bits, as 32 lowercase hex digits; Swift's system generator is a CSPRNG.
    static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return [generator.next(), generator.next()].map { (value: UInt64) in
            let hex = String(value, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    mutating func add(_ transfer: Transfer) -> String {
        let token = Self.newToken()
        transfers[token] = transfer
        return token
    }

    /// The transfer `token` names if `receiver` is the one it was offered to.
    func offered(_ token: String, to receiver: String) -> Transfer? {
        guard let transfer = transfers[token], transfer.receiver == receiver else { return nil }
        return transfer
    }

    mutating func markAccepted(_ token: String) { transfers[token]?.accepted = true }

    mutating func remove(_ token: String) { transfers.removeValue(forKey: token) }

    /// A relay may pair connections only for an accepted, live introduction.
    func allowsRelay(_ token: String) -> Bool { transfers[token]?.accepted == true }

    mutating func expire(now: UInt64) {
        transfers = transfers.filter { now - $0.value.created < Self.lifetimeNanos }
    }
}
