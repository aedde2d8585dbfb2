import Logging
import Synchronization

/// The log level and format of a process, which a reload changes while it runs.
///
/// swift-log copies a handler into every `Logger` made, so no handler can be reached to change
/// it later; each handler reads its level and format from this one shared value instead: one
/// relaxed atomic load for the level check of each log call, one more for a line written.
public final class LogSettings: Sendable {
    /// The names `log_level` takes, least severe first.
    public static let levels = allLevels.map(\.rawValue)
    /// Made once: `allCases` builds a new array on each call, and `level` is read on every log call.
    private static let allLevels = Logger.Level.allCases
    private static let allFormats = LogFormat.allCases

    private let levelIndex: Atomic<Int>
    private let formatIndex: Atomic<Int>

    public init(level: Logger.Level = .info, format: LogFormat = .text) {
        levelIndex = Atomic(Self.index(of: level))
        formatIndex = Atomic(Self.index(of: format))
    }

    public var level: Logger.Level { Self.allLevels[levelIndex.load(ordering: .relaxed)] }
    public var format: LogFormat { Self.allFormats[formatIndex.load(ordering: .relaxed)] }

    /// Takes the level and format of `configuration`; a name it does not know leaves that one as it is
    /// (`ChatConfiguration` refuses such names before they get here).
    public func update(from configuration: ChatConfiguration) {
        if let level = Logger.Level(rawValue: configuration.logLevel) {
            levelIndex.store(Self.index(of: level), ordering: .relaxed)
        }
        if let format = LogFormat(rawValue: configuration.logFormat) {
            formatIndex.store(Self.index(of: format), ordering: .relaxed)
        }
    }

    private static func index(of level: Logger.Level) -> Int { allLevels.firstIndex(of: level)! }
    private static func index(of format: LogFormat) -> Int { allFormats.firstIndex(of: format)! }
}
