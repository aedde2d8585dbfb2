import ChatCrypto
import ChatTestSupport
import Foundation
import Testing

/// Files sent through the server while something else happens (a partition move): each user
/// sends one file per round to another, the first half before the caller's step and the rest
/// after, each answered `ok`; then the check that every file is fetchable by its recipient with
/// the SHA-256 it was sent with. What the tests that move partitions under uploads send.
struct SplitUploads {
    private struct Sent {
        let sender: Int
        let recipient: Int
        let name: String
        let bytes: [UInt8]
    }

    let users: [(TestClient, String)]
    /// Odd, and over several of the gateway's 256 KiB chunks on each side of the split.
    let size: Int
    private var inProgress: [Sent] = []
    private var stored: [(recipient: Int, sender: String, name: String, sha256: [UInt8])] = []
    private var rounds = 0

    init(_ users: [(TestClient, String)], size: Int = 1_500_001) {
        self.users = users
        self.size = size
    }

    /// Every user starts a file to the user `rounds + 1` places on, and sends its first half.
    mutating func begin() throws {
        precondition(inProgress.isEmpty, "the previous round was not finished")
        rounds += 1
        for sender in users.indices {
            let recipient = (sender + rounds) % users.count
            let name = "r\(rounds)-\(sender).bin"
            let bytes = randomBytes(size)
            let (client, me) = users[sender]
            try client.sendLine("\(me) to \(users[recipient].1) 202004131702 file \(size)\n\(name)")
            let goAhead = try client.readReply()
            #expect(goAhead == "ok", "the go-ahead for \(name)")
            try client.send(Array(bytes[..<(size / 2)]))
            inProgress.append(Sent(sender: sender, recipient: recipient, name: name, bytes: bytes))
        }
    }

    /// Sends the rest of every file begun; each must be answered `ok`.
    mutating func finish() throws {
        for upload in inProgress {
            let client = users[upload.sender].0
            try client.send(Array(upload.bytes[(size / 2)...]))
            let reply = try client.readReply(timeout: 30)
            #expect(reply == "ok", "\(upload.name) from \(users[upload.sender].1)")
            stored.append((upload.recipient, users[upload.sender].1, upload.name, SHA256Digest.hash(upload.bytes)))
        }
        inProgress = []
    }

    /// Every file stored is fetched by its recipient, whole, with its SHA-256.
    func expectEachFetchable() throws {
        for file in stored {
            let (client, me) = users[file.recipient]
            let bytes = try client.download(me: me, peer: file.sender, name: file.name)
            #expect(bytes.map(SHA256Digest.hash) == file.sha256, "\(file.name) from \(file.sender) to \(me)")
        }
    }
}
