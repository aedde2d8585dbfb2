import Logging
import Synchronization

/// A log that keeps what was said to it, for tests of what a component logs and how often.
final class CapturedLog: Sendable {
    struct Entry: Sendable {
        let message: String
        let metadata: Logger.Metadata
    }

    private let entries = Mutex<[Entry]>([])

    var logged: [Entry] { entries.withLock { $0 } }

    var logger: Logger {
        Logger(label: "test") { _ in Handler(log: self) }
    }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let entry = Entry(message: event.message.description, metadata: metadata.merging(event.metadata ?? [:]) { $1 })
            log.entries.withLock { $0.append(entry) }
        }
    }
}
