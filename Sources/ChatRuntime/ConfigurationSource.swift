import Foundation

/// Where a process's configuration comes from: the config file and the command line's
/// overrides (`ConfigurationOptions`). Read at start, and again on each reload.
public struct ConfigurationSource: Sendable, Equatable {
    public var config: String?
    public var port: Int?
    public var dataDirectory: String?
    public var overrides: [String]

    public init(config: String? = nil, port: Int? = nil, dataDirectory: String? = nil, overrides: [String] = []) {
        self.config = config
        self.port = port
        self.dataDirectory = dataDirectory
        self.overrides = overrides
    }

    /// The defaults, then the config file, then `--set`, then `--port` and `--data-dir`.
    public func resolve() throws(ConfigurationError) -> ChatConfiguration {
        var configuration = ChatConfiguration()
        if let config {
            let text: String
            do {
                text = try String(contentsOfFile: config, encoding: .utf8)
            } catch {
                throw .unreadableFile(path: config, reason: error.localizedDescription)
            }
            for (key, value) in try ConfigFile.parse(text).sorted(by: { $0.key < $1.key }) {
                try configuration.apply(key, value)
            }
        }
        for override in overrides {
            let (key, value) = try ConfigFile.parseOverride(override)
            try configuration.apply(key, value)
        }
        if let port { configuration.port = port }
        if let dataDirectory { configuration.dataDirectory = dataDirectory }
        return configuration
    }
}
