import Testing

/// Rounds of texts between every pair of some signed-in users while the system is being hurt
/// (a worker frozen, a machine cut off): unlike `TextRounds`, a text may fail, and the check
/// is the guarantee that holds then: every text answered `ok` is in its pair's history
/// exactly once, and none other more than once.
struct UnsureTextRounds {
    let users: [(TestClient, String)]
    private(set) var pairs: [(Int, Int)] = []
    private(set) var acknowledged: [String] = []
    private(set) var unanswered: [String] = []
    private var round = 0

    init(_ users: [(TestClient, String)]) {
        self.users = users
        for low in users.indices { for high in users.indices where high > low { pairs.append((low, high)) } }
    }

    /// One text from the lower to the higher user of every pair, each answered before the
    /// next goes (within `timeout` seconds); true if every one was `ok`.
    mutating func send(timeout: Double = 30) throws -> Bool {
        round += 1
        var all = true
        for (low, high) in pairs {
            let (client, me) = users[low], peer = users[high].1
            let text = "round \(round) \(me) \(peer)"
            try client.sendLine("\(me) to \(peer) 202612071100 text\n\(text)")
            if try client.readReply(timeout: timeout) == "ok" {
                acknowledged.append(text)
            } else {
                unanswered.append(text)
                all = false
            }
        }
        return all
    }

    func expectAcknowledgedOnceAndNoneTwice() throws {
        for (low, high) in pairs {
            let (client, me) = users[low], peer = users[high].1
            let history = String(decoding: try client.history(me: me, peer: peer), as: UTF8.self)
            for text in acknowledged where text.hasSuffix(" \(me) \(peer)") {
                #expect(history.components(separatedBy: "\n\(text)\n").count == 2, "\(text) once in the history:\n\(history)")
            }
            for text in unanswered where text.hasSuffix(" \(me) \(peer)") {
                #expect(history.components(separatedBy: "\n\(text)\n").count <= 2, "\(text) at most once")
            }
        }
    }
}
