/// The first line of a text, audio or file message: `uid1 to uid2 <timestamp> text`, or
/// `... audio <size>` / `... file <size>`. The same line starts the message's history record
/// and its push, so one type reads and writes it everywhere.
public struct MessageHeader: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case text
        case audio(size: Int64)
        case file(size: Int64)

        /// The words after the timestamp: `text`, `audio <size>` or `file <size>`; nil otherwise.
        init?(words: ArraySlice<Substring>) {
            guard let first = words.first else { return nil }
            switch (first, words.count) {
            case ("text", 1):
                self = .text
            case ("audio", 2):
                guard let size = Identifiers.parseSize(words[words.startIndex + 1]) else { return nil }
                self = .audio(size: size)
            case ("file", 2):
                guard let size = Identifiers.parseSize(words[words.startIndex + 1]) else { return nil }
                self = .file(size: size)
            default:
                return nil
            }
        }

        /// `text`, `audio <size>` or `file <size>`, as the header spells it.
        var text: String {
            switch self {
            case .text: return "text"
            case .audio(let size): return "audio \(size)"
            case .file(let size): return "file \(size)"
            }
        }
    }

    public let sender: String
    public let recipient: String
    public let timestamp: String
    public let kind: Kind
    /// The header line exactly as received, without its line ending. Records and pushes carry
    /// these bytes, not a respelling (a size sent as `007` stays `007`).
    public let line: [UInt8]

    init(sender: String, recipient: String, timestamp: String, kind: Kind, line: [UInt8]) {
        self.sender = sender
        self.recipient = recipient
        self.timestamp = timestamp
        self.kind = kind
        self.line = line
    }

    /// A header to send: its line is built from the parts.
    public init(sender: String, recipient: String, timestamp: String, kind: Kind) {
        self.init(sender: sender, recipient: recipient, timestamp: timestamp, kind: kind,
                  line: Array("\(sender) to \(recipient) \(timestamp) \(kind.text)".utf8))
    }

    /// Reads a header from anyone (a push, a history record); nil unless every part is well
    /// formed. The gateway reads its clients' headers with `SessionCommandParser` instead, which
    /// also decides which refusal a bad one gets.
    public init?(line: [UInt8]) {
        guard let text = String(validating: line, as: UTF8.self) else { return nil }
        let words = text.split(separator: " ", omittingEmptySubsequences: false)
        guard words.count >= 5, Identifiers.isValidUID(words[0]), words[1] == "to", Identifiers.isValidUID(words[2]),
              Identifiers.isValidTimestamp(words[3]), let kind = Kind(words: words[4...]) else { return nil }
        self.init(sender: String(words[0]), recipient: String(words[2]), timestamp: String(words[3]), kind: kind, line: line)
    }
}
