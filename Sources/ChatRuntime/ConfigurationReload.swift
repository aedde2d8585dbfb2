import Logging
import Synchronization

/// Re-reads a process's configuration as it was first read (the same config file, the same
/// `--set` and options), and applies what can change while it runs. SIGHUP and `chatd reload`
/// both come here; neither ever stops the process.
///
/// A file that cannot be read or holds a wrong value changes nothing: the process keeps
/// running as it was, and the error is logged and returned.
public final class ConfigurationReload: Sendable {
    private struct State {
        var current: ChatConfiguration
        var whenReloaded: [@Sendable (ChatConfiguration) -> Void] = []
    }

    private let source: ConfigurationSource
    private let logger: Logger
    private let needsRestartLevel: Logger.Level
    /// Also keeps two reloads (a signal and an admin request) from running at once.
    private let state: Mutex<State>

    /// `current`: what the process runs with now, read from `source`. `needsRestartLevel`: how
    /// loud to name the settings a restart would take; the supervisor warns, and its children,
    /// which read the same file, say it again only at debug level rather than five times over.
    public init(source: ConfigurationSource, current: ChatConfiguration, logger: Logger, needsRestartLevel: Logger.Level = .warning) {
        self.source = source
        self.logger = logger
        self.needsRestartLevel = needsRestartLevel
        state = Mutex(State(current: current))
    }

    /// The configuration in effect: the one started with, with the live settings of the last reload.
    public var current: ChatConfiguration { state.withLock { $0.current } }

    /// `apply` is called after every reload that read the configuration, with the
    /// configuration in effect, for the part of the process it changes (its limits, its
    /// children). It may be called with values it has already, and must not block.
    public func whenReloaded(_ apply: @escaping @Sendable (ChatConfiguration) -> Void) {
        state.withLock { $0.whenReloaded.append(apply) }
    }

    /// Reads the configuration again and applies what it can, logging what it did.
    @discardableResult
    public func reload() -> ReloadOutcome {
        state.withLock { state in
            let new: ChatConfiguration
            do throws(ConfigurationError) {
                new = try source.resolve()
            } catch {
                logger.error("reload: cannot read the configuration; nothing changed", metadata: ["reload.error": "\(error)"])
                return .failed(error)
            }
            let change = ConfigurationChange(from: state.current, to: new)
            state.current = change.result
            if !change.needsRestart.isEmpty {
                logger.log(level: needsRestartLevel, "reload: needs a restart, left as it was", metadata: ["reload.keys": "\(change.needsRestart.joined(separator: ","))"])
            }
            if !change.applied.isEmpty {
                logger.notice("reload: applied", metadata: ["reload.keys": "\(change.applied.joined(separator: ","))"])
            } else if change.needsRestart.isEmpty {
                logger.info("reload: nothing changed")
            }
            for apply in state.whenReloaded { apply(change.result) }
            return .reloaded(change)
        }
    }
}

/// What one reload did, for a log or for `chatd reload` to print.
public enum ReloadOutcome: Equatable, Sendable {
    /// The configuration could not be read; everything runs as it did.
    case failed(ConfigurationError)
    case reloaded(ConfigurationChange)

    public var succeeded: Bool {
        if case .reloaded = self { return true }
        return false
    }

    /// A few lines for a person: what was applied, what needs a restart, or what is wrong.
    public var summary: [String] {
        switch self {
        case .failed(let error):
            return ["reload failed, nothing changed: \(error)"]
        case .reloaded(let change) where change.applied.isEmpty && change.needsRestart.isEmpty:
            return ["reloaded: nothing changed"]
        case .reloaded(let change):
            var lines: [String] = []
            if !change.applied.isEmpty { lines.append("applied: \(change.applied.joined(separator: ", "))") }
            if !change.needsRestart.isEmpty {
                lines.append("needs a restart, left as it was: \(change.needsRestart.joined(separator: ", "))")
            }
            return lines
        }
    }
}
