import Foundation
import Logging

/// Writes each entry to standard error at the level, and in the format, that `settings` holds now.
///
/// Text lines are written by swift-log's `StreamLogHandler` itself, so they stay what they were
/// before the format could change, byte for byte.
public struct LiveLogHandler: LogHandler {
    private let settings: LogSettings
    private let label: String
    private var text: StreamLogHandler
    /// Set only by code that sets `logLevel` on one `Logger`; that logger keeps it, the others
    /// follow `settings`, as swift-log asks of a handler.
    private var ownLevel: Logger.Level?

    public init(label: String, settings: LogSettings) {
        self.label = label
        self.settings = settings
        text = StreamLogHandler.standardError(label: label)
        // `Logger` has checked the level before it calls `log`; the inner handler writes all it is given.
        text.logLevel = .trace
    }

    public var logLevel: Logger.Level {
        get { ownLevel ?? settings.level }
        set { ownLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { text.metadata }
        set { text.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { text.metadata[key] }
        set { text.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        switch settings.format {
        case .text:
            text.log(event: event)
        case .json:
            // The same metadata as a text line's, merged the way StreamLogHandler merges it.
            var merged = text.metadata.merging(text.metadataProvider?.get() ?? [:]) { $1 }.merging(event.metadata ?? [:]) { $1 }
            if let error = event.error {
                merged["error.message"] = "\(error)"
                merged["error.type"] = "\(String(reflecting: type(of: error)))"
            }
            let line = JSONLogLine(time: Date(), level: event.level, label: label, message: event.message.description,
                                   metadata: merged, source: event.source)
            Self.writeToStandardError(line.encoded)
        }
    }

    /// One `write` per line, so lines from several threads do not interleave (a line longer
    /// than a pipe takes at once may still be split). A log that cannot be written (a full
    /// disk, a closed descriptor, a pipe with no reader) loses the line and nothing more:
    /// Foundation's `FileHandle.write` would end the process. A line cut short is ended, so
    /// the next one starts on a line of its own.
    private static func writeToStandardError(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    if offset > 0 { _ = write(STDERR_FILENO, "\n", 1) }
                    return
                }
            }
        }
    }
}
