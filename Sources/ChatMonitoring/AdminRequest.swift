/// The admin socket's line protocol: a client sends one line, `status` or `reload`, and the
/// supervisor answers and closes. This reads the bytes of that line as they come; anything
/// else (an unknown word, a line past `maxLineBytes`, bytes after the line) is answered with
/// an `error:` line. A value fed bytes, tested without sockets.
public struct AdminRequest: Sendable, Equatable {
    public enum Command: String, Sendable, Equatable {
        case status
        case reload
    }

    public enum Outcome: Sendable, Equatable {
        /// No whole line yet.
        case needMore
        case command(Command)
        /// What to answer (without its newline) before closing.
        case refused(String)
    }

    /// Far longer than any command: a longer line is not one of ours.
    public static let maxLineBytes = 256

    private var line: [UInt8] = []

    public init() {}

    /// Takes the next bytes received. Once an outcome other than `needMore` is returned, the
    /// connection is answered and closed: later bytes are not read.
    public mutating func receive(_ bytes: some Sequence<UInt8>) -> Outcome {
        for byte in bytes {
            if byte == UInt8(ascii: "\n") { return Self.parse(line) }
            line.append(byte)
            if line.count > Self.maxLineBytes { return .refused("error: request longer than \(Self.maxLineBytes) bytes") }
        }
        return .needMore
    }

    /// The client closed its side: a last line without its newline still counts.
    public mutating func endOfInput() -> Outcome {
        line.isEmpty ? .refused("error: empty request (expected status or reload)") : Self.parse(line)
    }

    static func parse(_ line: [UInt8]) -> Outcome {
        var text = String(decoding: line, as: UTF8.self)
        if text.hasSuffix("\r") { text.removeLast() }
        let word = text.trimmingSpaces
        if let command = Command(rawValue: word) { return .command(command) }
        // Only printable ASCII is echoed back, so the error line stays one readable line.
        let shown = String(word.unicodeScalars.map { (0x20..<0x7f).contains($0.value) ? Character($0) : "?" }.prefix(40))
        return .refused("error: unknown request '\(shown)' (expected status or reload)")
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
