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
        QuotedString.append(Self.timestamp(time), to: &line)
        line += ",\"level\":"
        QuotedString.append(level.rawValue, to: &line)
        line += ",\"label\":"
        QuotedString.append(label, to: &line)
        line += ",\"message\":"
        QuotedString.append(message, to: &line)
        line += ",\"metadata\":{"
        for (index, (key, value)) in metadata.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { line += "," }
            QuotedString.append(key, to: &line)
            line += ":"
            QuotedString.append(value.description, to: &line)
        }
        line += "},\"source\":"
        QuotedString.append(source, to: &line)
        line += "}\n"
        return line
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
