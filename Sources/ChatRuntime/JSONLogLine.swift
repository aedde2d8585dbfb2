import Foundation
import Logging

/// One log entry as one line of JSON (`log_format = "json"`), for log collectors:
/// `{"time":"2026-01-01T12:00:00.000Z","level":"info","label":"chatd.gateway","message":"…","metadata":{"key":"value"},"source":"ChatGateway"}`.
///
/// Written by hand rather than by `JSONEncoder`, which is slow for this and orders keys as it
/// likes; every string is escaped here, so any message or metadata makes valid JSON.
public struct JSONLogLine: Sendable {
    public let time: Date
    public let level: Logger.Level
    /// The process role: `chatd.supervisor`, `chatd.gateway`, ...
    public let label: String
    public let message: String
    /// Every value as its text, nested lists and dictionaries included.
    public let metadata: Logger.Metadata
    public let source: String

    public init(time: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata, source: String) {
        self.time = time
        self.level = level
        self.label = label
        self.message = message
        self.metadata = metadata
        self.source = source
    }

    /// The line, newline included.
    public var encoded: String {
        var line = "{\"time\":"
        Self.append(Self.timestamp(time), to: &line)
        line += ",\"level\":"
        Self.append(level.rawValue, to: &line)
        line += ",\"label\":"
        Self.append(label, to: &line)
        line += ",\"message\":"
        Self.append(message, to: &line)
        line += ",\"metadata\":{"
        for (index, (key, value)) in metadata.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { line += "," }
            Self.append(key, to: &line)
            line += ":"
            Self.append(value.description, to: &line)
        }
        line += "},\"source\":"
        Self.append(source, to: &line)
        line += "}\n"
        return line
    }

    /// `text` as a JSON string: quotes, backslashes and every control character escaped (a raw
    /// newline would split the line); the rest, non-ASCII included, as it is, in UTF-8.
    static func append(_ text: String, to line: inout String) {
        line += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": line += "\\\""
            case "\\": line += "\\\\"
            case "\n": line += "\\n"
            case "\r": line += "\\r"
            case "\t": line += "\\t"
            // JSON allows U+2028 and U+2029 raw, but JavaScript before ES2019 did not, and some
            // line-oriented tools take them for line ends.
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\u{2028}" || scalar == "\u{2029}":
                let hex = String(scalar.value, radix: 16)
                line += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: line.unicodeScalars.append(scalar)
            }
        }
        line += "\""
    }

    /// UTC, to the millisecond: `2026-01-01T12:00:00.000Z`.
    static func timestamp(_ time: Date) -> String {
        let milliseconds = Int64((time.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S", &parts)
        let fraction = String(milliseconds % 1000)
        let whole = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return "\(whole).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)Z"
    }
}
