import Foundation
import Testing

/// Rounds of texts between every pair of some signed-in users, each answered before the next
/// goes, and the check that every round is in each pair's history once and in order: what the
/// tests that move partitions while users chat (LivePartitionMoveTests, StorageScalingTests)
/// send and check.
struct TextRounds {
    let users: [(TestClient, String)]
    private(set) var pairs: [(Int, Int)] = []
    private(set) var rounds = 0

    init(_ users: [(TestClient, String)]) {
        self.users = users
        for low in users.indices { for high in users.indices where high > low { pairs.append((low, high)) } }
    }

    /// One text from the lower to the higher user of every pair; each must be answered `ok`.
    mutating func send() throws {
        for (low, high) in pairs {
            let (client, me) = users[low], peer = users[high].1
            try client.sendLine("\(me) to \(peer) 202004131702 text\nround \(rounds) \(me) \(peer)")
            let reply = try client.readReply()
            #expect(reply == "ok", "round \(rounds), \(me) to \(peer)")
        }
        rounds += 1
    }

    /// Every round's text is in its pair's history exactly once, in the order sent.
    func expectEachOnceInOrder() throws {
        for (low, high) in pairs {
            let (client, me) = users[low], peer = users[high].1
            let history = String(decoding: try client.history(me: me, peer: peer), as: UTF8.self)
            let found = (0..<rounds).map { history.components(separatedBy: "\nround \($0) \(me) \(peer)\n").count - 1 }
            #expect(found == Array(repeating: 1, count: rounds), "\(me)-\(peer): \(history)")
            let positions = (0..<rounds).compactMap { history.range(of: "\nround \($0) \(me) \(peer)\n")?.lowerBound }
            #expect(positions == positions.sorted(), "\(me)-\(peer) out of order: \(history)")
        }
    }
}
