/// How log lines are written (`log_format`).
public enum LogFormat: String, CaseIterable, Sendable {
    /// `2026-01-01T12:00:00+0000 info chatd.gateway: key=value [ChatGateway] message`: swift-log's
    /// own `StreamLogHandler` line, for people reading a terminal or a journal.
    case text
    /// One JSON object per line (`JSONLogLine`), for log collectors.
    case json
}
