/// Parses session-phase lines for the signed-in `uid`.
///
/// Order of checks, from the protocol: `Permission denied` (uid1 is not the signed-in uid),
/// then `Wrong  interact command` (any malformed part).
public struct SessionCommandParser: Sendable {
    public let uid: String
    private let uidBytes: [UInt8]

    public init(uid: String) {
        self.uid = uid
        uidBytes = Array(uid.utf8)
    }

    public func parse(_ line: [UInt8]) -> SessionLine {
        if let header = fastTextHeader(line) { return .command(.message(header)) }
        guard let text = String(validating: line, as: UTF8.self) else {
            // The two-line form is recognised on the raw bytes, so even a header that is not
            // UTF-8 keeps its content line from being read as a command.
            let words = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
            let kinds = ["text", "audio", "file"].map { Array($0.utf8)[...] }
            if words.count >= 5, words[1].elementsEqual("to".utf8), kinds.contains(where: { $0.elementsEqual(words[4]) }) {
                return .refusedTwoLine(words[0].elementsEqual(uid.utf8) ? .wrongInteractCommand : .permissionDenied)
            }
            return .refused(.wrongInteractCommand)
        }
        if text == "offline" { return .command(.offline) }
        let words = text.split(separator: " ", omittingEmptySubsequences: false)

        // The two-line form is recognised by shape alone: its content line is always consumed.
        if words.count >= 5, words[1] == "to", ["text", "audio", "file"].contains(words[4]) {
            return parseMessageHeader(words, line: line)
        }
        guard words.count >= 2 else { return .refused(.wrongInteractCommand) }
        let claimsOtherUser = words[0] != uid

        switch (words.count, words[1]) {
        case (4..., "p2p"):
            if claimsOtherUser { return .refused(.permissionDenied) }
            guard let command = P2PCommand.parse(words, line: line) else { return .refused(.wrongInteractCommand) }
            if case .offer(let peer, _, _, _, _) = command, peer == uid { return .refused(.wrongInteractCommand) }
            return .command(.p2p(command))
        case (2, "friends"):
            return claimsOtherUser ? .refused(.permissionDenied) : .command(.friends)
        case (2, "ticket"):
            return claimsOtherUser ? .refused(.permissionDenied) : .command(.resumeTicket)
        case (4, "to") where words[3] == "addFriend":
            if claimsOtherUser { return .refused(.permissionDenied) }
            let peer = String(words[2])
            guard Identifiers.isValidUID(peer), peer != uid else { return .refused(.wrongInteractCommand) }
            return .command(.addFriend(peer: peer))
        case (4..., "history"):
            if claimsOtherUser { return .refused(.permissionDenied) }
            let peer = String(words[2])
            guard Identifiers.isValidUID(peer) else { return .refused(.wrongInteractCommand) }
            if words.count == 4 && words[3] == "all" { return .command(.historyAll(peer: peer)) }
            if words[3] == "filename" {
                // The name is everything after "filename ", spaces included.
                let prefixLength = words[0].utf8.count + words[1].utf8.count + words[2].utf8.count + "filename".utf8.count + 4
                let name = String(decoding: line.dropFirst(prefixLength), as: UTF8.self)
                guard !name.isEmpty else { return .refused(.wrongInteractCommand) }
                return .command(.historyFile(peer: peer, name: name))
            }
            return .refused(.wrongInteractCommand)
        default:
            return .refused(.wrongInteractCommand)
        }
    }

    /// `uid1 to uid2 <timestamp> text` from this user, recognised on the bytes without
    /// splitting into strings: every text message starts with one.
    private func fastTextHeader(_ line: [UInt8]) -> MessageHeader? {
        guard line.count == 34, uidBytes.count == 6 else { return nil }
        return line.withUnsafeBufferPointer { bytes -> MessageHeader? in
            func matches(_ expected: StaticString, at offset: Int) -> Bool {
                (0..<expected.utf8CodeUnitCount).allSatisfy { bytes[offset + $0] == expected.utf8Start[$0] }
            }
            guard (0..<6).allSatisfy({ bytes[$0] == uidBytes[$0] }),
                  matches(" to ", at: 6), bytes[16] == 32, matches(" text", at: 29),
                  bytes[10..<16].allSatisfy(Identifiers.isDigit), Identifiers.isValidTimestamp(digits: bytes[17..<29]) else { return nil }
            let timestamp = String(decoding: bytes[17..<29], as: UTF8.self)
            return MessageHeader(sender: uid, recipient: String(decoding: bytes[10..<16], as: UTF8.self),
                                 timestamp: timestamp, kind: .text, line: line)
        }
    }

    private func parseMessageHeader(_ words: [Substring], line: [UInt8]) -> SessionLine {
        if words[0] != uid { return .refusedTwoLine(.permissionDenied) }
        let recipient = String(words[2]), timestamp = String(words[3])
        guard Identifiers.isValidUID(recipient), Identifiers.isValidTimestamp(timestamp) else {
            return .refusedTwoLine(.wrongInteractCommand)
        }
        guard let kind = MessageHeader.Kind(words: words[4...]) else { return .refusedTwoLine(.wrongInteractCommand) }
        return .command(.message(MessageHeader(sender: uid, recipient: recipient, timestamp: timestamp, kind: kind, line: line)))
    }
}
