/// One message as the history keeps it: its header line, then its content line (a text) or the
/// name it is stored under (audio, file), each ended by `\n` alone. The same bytes are pushed to
/// an online recipient and sent, record after record, in answer to `history ... all`.
public struct HistoryRecord: Equatable, Sendable {
    public let header: MessageHeader
    /// A text's content, or the stored name of an audio or file message.
    public let body: String

    public init(header: MessageHeader, body: String) {
        self.header = header
        self.body = body
    }

    /// The record of a header already read and the line after it; nil unless that line fits
    /// the header: valid UTF-8, and for audio and file a valid file name (a stored audio name
    /// may be a renamed copy, `..._audio (2).ogg`, so the audio pattern is not asked for).
    public init?(header: MessageHeader, bodyLine: [UInt8]) {
        guard let body = String(validating: bodyLine, as: UTF8.self) else { return nil }
        if case .text = header.kind {} else {
            guard FileNames.isValidFileName(bodyLine) else { return nil }
        }
        self.init(header: header, body: body)
    }

    /// The record as stored, pushed and sent: header, `\n`, body, `\n`.
    public var bytes: [UInt8] { Self.bytes(headerLine: header.line, body: body.utf8) }

    /// The record of a header line and a body, built in one allocation: the gateway makes one
    /// for every text, from the bytes it read.
    @inlinable
    public static func bytes<Body: Collection>(headerLine: [UInt8], body: Body) -> [UInt8] where Body.Element == UInt8 {
        var record: [UInt8] = []
        record.reserveCapacity(headerLine.count + body.count + 2)
        record.append(contentsOf: headerLine)
        record.append(UInt8(ascii: "\n"))
        record.append(contentsOf: body)
        record.append(UInt8(ascii: "\n"))
        return record
    }

    /// The records in the bytes of `history ... all`, oldest first (none for no bytes); nil if
    /// any record is malformed or the last one is not ended by `\n`.
    public static func decodeAll(_ bytes: [UInt8]) -> [HistoryRecord]? {
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        // Every line ends with `\n`, so the split leaves an empty piece after the last one.
        guard lines.removeLast().isEmpty, lines.count % 2 == 0 else { return nil }
        var records: [HistoryRecord] = []
        records.reserveCapacity(lines.count / 2)
        for index in stride(from: 0, to: lines.count, by: 2) {
            guard let header = MessageHeader(line: Array(lines[index])),
                  let record = HistoryRecord(header: header, bodyLine: Array(lines[index + 1])) else { return nil }
            records.append(record)
        }
        return records
    }
}
