import ChatProtocol

/// The first line of something pushed by the server: `uid1 to uid2 <ts> text|audio|file ...`
/// or `uid1 to uid2 addFriend`. Replies never start like this.
struct PushHeader {
    enum Kind {
        case text(timestamp: String)
        case attachment(timestamp: String, kind: String)
        case addFriend
        /// `p2p <verb> <token> ...`: the words after `p2p`.
        case p2p([String])
    }

    let sender: String
    let kind: Kind

    init?(_ line: String) {
        let words = line.split(separator: " ", omittingEmptySubsequences: false)
        guard words.count >= 4, Identifiers.isValidUID(words[0]), words[1] == "to", Identifiers.isValidUID(words[2]) else {
            return nil
        }
        sender = String(words[0])
        switch (words.count, words[3]) {
        case (4, "addFriend"): kind = .addFriend
        case (6..., "p2p"): kind = .p2p(words[4...].map(String.init))
        case (5, _) where words[4] == "text": kind = .text(timestamp: String(words[3]))
        case (6, _) where words[4] == "audio" || words[4] == "file":
            kind = .attachment(timestamp: String(words[3]), kind: String(words[4]))
        default: return nil
        }
    }
}
