/// A client's reading of a line that may start a push: a whole one-line push, or the header
/// of a message whose content or name line comes next (`HistoryRecord(header:bodyLine:)`
/// completes it). Nil for anything else, replies included.
public enum PushFirstLine: Equatable, Sendable {
    case push(Push)
    case messageHeader(MessageHeader)

    public init?(line: [UInt8]) {
        guard let text = String(validating: line, as: UTF8.self) else { return nil }
        let words = text.split(separator: " ", omittingEmptySubsequences: false)
        guard words.count >= 4, Identifiers.isValidUID(words[0]), words[1] == "to", Identifiers.isValidUID(words[2]) else {
            return nil
        }
        let from = String(words[0]), to = String(words[2])
        switch (words[3], words.count) {
        case ("addFriend", 4):
            self = .push(.addFriend(from: from, to: to))
        case ("p2p", _):
            guard let push = Self.peerToPeer(words, line: line, from: from, to: to) else { return nil }
            self = .push(push)
        default:
            guard let header = MessageHeader(line: line) else { return nil }
            self = .messageHeader(header)
        }
    }

    /// `uid1 to uid2 p2p offer|connect|declined ...`.
    private static func peerToPeer(_ words: [Substring], line: [UInt8], from: String, to: String) -> Push? {
        guard words.count >= 6, P2PCommand.isToken(words[5]) else { return nil }
        let token = String(words[5])
        switch (words[4], words.count) {
        case ("offer", 9...):
            guard let size = Identifiers.parseSize(words[6]), P2PCommand.isSHA256(words[7]) else { return nil }
            // The name is the rest of the line and may hold spaces.
            let prefix = words[0..<8].reduce(0) { $0 + $1.utf8.count + 1 }
            let name = Array(line.dropFirst(prefix))
            guard FileNames.isValidFileName(name) else { return nil }
            return .p2pOffer(from: from, to: to, token: token, size: size, sha256: String(words[7]),
                             name: String(decoding: name, as: UTF8.self))
        case ("connect", 9):
            // Endpoints are passed on as the server wrote them; the client checks them when it dials.
            guard !words[6].isEmpty, !words[7].isEmpty, P2PCommand.isToken(words[8]) else { return nil }
            return .p2pConnect(from: from, to: to, token: token, peerPublic: String(words[6]), peerPrivate: String(words[7]),
                               relayKey: String(words[8]))
        case ("declined", 6):
            return .p2pDeclined(from: from, to: to, token: token)
        default:
            return nil
        }
    }
}
