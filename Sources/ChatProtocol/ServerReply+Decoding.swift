/// The client's side of `ServerReply`: a reply line back into the reply it spells.
extension ServerReply {
    /// Every reply that is always the same line, by that line.
    private static let fixedReplies: [String: ServerReply] = Dictionary(uniqueKeysWithValues: [
        ServerReply.signUpSucceeded, .uidAlreadyExists, .signInSucceeded, .uidNotExits, .wrongPassword, .wrongSignCommand,
        .wrongInteractCommand, .permissionDenied, .ok, .targetUserOffline, .fileTooLarge, .invalidFileName, .noHistoryYet,
        .noSuchFile, .serviceUnavailable, .messageTooLong, .signedInElsewhere, .noSuchTransfer, .p2pRelayReady, .tooManyOffers,
        .storageQuotaExceeded, .tooManyFailedSignIns, .tooManySignUps, .tooManyConnections,
    ].map { ($0.text, $0) })

    private static let dataSizePrefix = "server_data_size"

    /// The reply `text` spells (a line without its ending); nil for anything else, pushes included.
    public init?<S: StringProtocol>(text: S) {
        if let fixed = Self.fixedReplies[String(text)] {
            self = fixed
            return
        }
        if text.hasPrefix(Self.dataSizePrefix) {
            let digits = text.dropFirst(Self.dataSizePrefix.count)
            guard (1...19).contains(digits.utf8.count), digits.utf8.allSatisfy(Identifiers.isDigit),
                  let count = Int(digits) else { return nil }
            self = .dataSize(count)
            return
        }
        let words = text.split(separator: " ", omittingEmptySubsequences: false)
        switch (words[0], words.count) {
        case ("friends", _):
            var entries: [(uid: String, online: Bool)] = []
            for entry in words.dropFirst() {
                let parts = entry.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 2, Identifiers.isValidUID(parts[0]), parts[1] == "online" || parts[1] == "offline" else {
                    return nil
                }
                entries.append((uid: String(parts[0]), online: parts[1] == "online"))
            }
            self = .friends(entries)
        case ("ticket", 2) where Identifiers.isResumeTicket(words[1]):
            self = .resumeTicket(String(words[1]))
        case ("p2p", 3) where words[1] == "offered" && P2PCommand.isToken(words[2]):
            self = .p2pOffered(token: String(words[2]))
        case ("p2p", 6) where words[1] == "connect" && P2PCommand.isToken(words[2]) && !words[3].isEmpty && !words[4].isEmpty
                && P2PCommand.isToken(words[5]):
            self = .p2pConnect(token: String(words[2]), peerPublic: String(words[3]), peerPrivate: String(words[4]),
                               relayKey: String(words[5]))
        default:
            return nil
        }
    }

    /// The ticket a `ticket <hex>` reply carries; nil for any other reply, or none.
    public static func ticket(in reply: ServerReply?) -> String? {
        guard case .resumeTicket(let ticket)? = reply else { return nil }
        return ticket
    }

    /// The reply a line spells, with or without its `\n`.
    public init?(line: [UInt8]) {
        let text = line.last == UInt8(ascii: "\n") ? line.dropLast() : line[...]
        guard let text = String(validating: text, as: UTF8.self) else { return nil }
        self.init(text: text)
    }
}
