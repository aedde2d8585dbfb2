/// Peer-to-peer transfers the router has introduced, by token. The router only introduces:
/// it tells each side where the other is, and never sees the file.
///
/// The token names the transfer and is known to both peers (they greet each other with it),
/// so it cannot prove who presents it at the relay. On acceptance each side is given a relay
/// key of its own, in the one message only it receives; the relay pairs a side once, on its
/// key, and the introduction is spent when both sides have been paired.
///
/// Pure bookkeeping with an injected clock (`now`, in nanoseconds): its tests need no sockets.
struct P2PIntroductions {
    struct Limits {
        /// Introductions one user may have waiting for an answer; past this, `add` refuses.
        /// An accepted one no longer counts: its receiver wanted it.
        var perSender = 64
        /// Live introductions in all; bounds the table whatever many users do.
        var total = 100_000
    }

    enum Side: Equatable { case sender, receiver }

    /// Each side's key for the relay, given to that side alone.
    struct RelayKeys: Equatable {
        let sender: String
        let receiver: String
    }

    struct Transfer {
        let sender: String
        let receiver: String
        let senderPublic: String
        let senderPrivate: String
        /// As offered: the relay carries this much and a margin, no more.
        let size: Int64
        let created: UInt64
        /// Set when the receiver accepts; only then may either side use the relay.
        var relayKeys: RelayKeys?
        /// Sides already granted a relay connection.
        var relayedSides: [Side] = []

        var isAccepted: Bool { relayKeys != nil }
    }

    /// An introduction is good for this long: time to accept, connect, and pair relay connections.
    static let lifetimeNanos: UInt64 = 600_000_000_000

    /// A reload may change them; offers made already stay, even past a lowered limit.
    var limits: Limits
    private(set) var transfers: [String: Transfer] = [:]
    /// Introductions not yet accepted, by the user who offered them, for `Limits.perSender`.
    private(set) var liveBySender: [String: Int] = [:]
    /// Tokens of introductions not yet accepted, by the user they were offered to, so that
    /// a user going offline withdraws theirs without a walk through the table.
    private var unansweredByReceiver: [String: Set<String>] = [:]

    init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// 128 random bits, as 32 lowercase hex digits; Swift's system generator is a CSPRNG.
    static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return [generator.next(), generator.next()].map { (value: UInt64) in
            let hex = String(value, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    /// Records the introduction and returns its token; nil when the sender or the table is full.
    mutating func add(_ transfer: Transfer) -> String? {
        guard transfers.count < limits.total, liveBySender[transfer.sender, default: 0] < limits.perSender else { return nil }
        let token = Self.newToken()
        transfers[token] = transfer
        liveBySender[transfer.sender, default: 0] += 1
        unansweredByReceiver[transfer.receiver, default: []].insert(token)
        return token
    }

    /// The transfer `token` names if `receiver` is the one it was offered to.
    func offered(_ token: String, to receiver: String) -> Transfer? {
        guard let transfer = transfers[token], transfer.receiver == receiver else { return nil }
        return transfer
    }

    /// The receiver accepts: each side gets its relay key. Nil if `token` was not offered to
    /// `receiver`, or was accepted already (the keys are handed out once).
    mutating func accept(_ token: String, by receiver: String) -> RelayKeys? {
        guard let transfer = offered(token, to: receiver), !transfer.isAccepted else { return nil }
        let keys = RelayKeys(sender: Self.newToken(), receiver: Self.newToken())
        transfers[token]?.relayKeys = keys
        releaseSenderPlace(transfer.sender)
        answered(token, by: receiver)
        return keys
    }

    /// A relay connection presents `token` and `key`: the offered size if the key is one of
    /// the accepted transfer's and its side has not been presented before; nil otherwise.
    /// Once both sides have been granted, the introduction is spent.
    mutating func claimRelay(_ token: String, key: String) -> Int64? {
        guard var transfer = transfers[token], let keys = transfer.relayKeys else { return nil }
        let side: Side
        if Self.sameKey(key, keys.sender) {
            side = .sender
        } else if Self.sameKey(key, keys.receiver) {
            side = .receiver
        } else {
            return nil
        }
        guard !transfer.relayedSides.contains(side) else { return nil }
        transfer.relayedSides.append(side)
        if transfer.relayedSides.count == 2 {
            remove(token)
        } else {
            transfers[token] = transfer
        }
        return transfer.size
    }

    mutating func remove(_ token: String) {
        guard let transfer = transfers.removeValue(forKey: token), !transfer.isAccepted else { return }
        releaseSenderPlace(transfer.sender)
        answered(token, by: transfer.receiver)
    }

    /// `receiver` went offline: the offers to them still unanswered are withdrawn, and their
    /// senders are to be told (as for a decline). Accepted ones stay: the peers may be
    /// connected already.
    mutating func withdrawOffers(to receiver: String) -> [(token: String, sender: String)] {
        let tokens = unansweredByReceiver[receiver] ?? []
        let withdrawn = tokens.compactMap { token in transfers[token].map { (token, $0.sender) } }
        for token in tokens { remove(token) }
        return withdrawn
    }

    private mutating func answered(_ token: String, by receiver: String) {
        unansweredByReceiver[receiver]?.remove(token)
        if unansweredByReceiver[receiver]?.isEmpty == true { unansweredByReceiver[receiver] = nil }
    }

    private mutating func releaseSenderPlace(_ sender: String) {
        let live = liveBySender[sender, default: 1] - 1
        liveBySender[sender] = live > 0 ? live : nil
    }

    mutating func expire(now: UInt64) {
        for (token, transfer) in transfers where now &- transfer.created >= Self.lifetimeNanos {
            remove(token)
        }
    }

    /// Compares every byte whatever the first difference, so the time taken tells a guesser
    /// nothing about how much of a key was right.
    static func sameKey(_ presented: String, _ expected: String) -> Bool {
        let presented = Array(presented.utf8), expected = Array(expected.utf8)
        guard presented.count == expected.count else { return false }
        var difference: UInt8 = 0
        for index in presented.indices { difference |= presented[index] ^ expected[index] }
        return difference == 0
    }
}
