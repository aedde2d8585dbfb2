/// One record of `history ... all`: a header line and its content or name line.
struct HistoryRecord {
    let header: String
    let body: String

    static func parse(_ data: [UInt8]) -> [HistoryRecord] {
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        var records: [HistoryRecord] = []
        var index = 0
        while index + 1 < lines.count {
            records.append(HistoryRecord(header: String(lines[index]), body: String(lines[index + 1])))
            index += 2
        }
        return records
    }

    /// `[2020-04-13 17:02] 111111 -> 222222: hello`.
    var readable: String {
        let words = header.split(separator: " ")
        guard words.count >= 5 else { return "\(header) \(body)" }
        let prefix = "[\(MessageTimestamp.readable(String(words[3])))] \(words[0]) -> \(words[2])"
        return words[4] == "text" ? "\(prefix): \(body)" : "\(prefix): [\(words[4])] \(body)"
    }
}
