import ChatProtocol

extension HistoryRecord {
    /// `[2020-04-13 17:02] 111111 -> 222222: hello`, or `...: [file] a.txt`, for people: the
    /// content escaped for a terminal (`TerminalText`).
    var readable: String {
        let prefix = "[\(MessageTimestamp.readable(header.timestamp))] \(header.sender) -> \(header.recipient)"
        let body = TerminalText.escaped(self.body)
        switch header.kind {
        case .text: return "\(prefix): \(body)"
        case .audio: return "\(prefix): [audio] \(body)"
        case .file: return "\(prefix): [file] \(body)"
        }
    }
}
