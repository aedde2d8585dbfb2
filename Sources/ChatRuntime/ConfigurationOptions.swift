import ArgumentParser
import Foundation

/// The options every `chatd` role shares: where the config is and what overrides it.
public struct ConfigurationOptions: ParsableArguments {
    @Option(name: .long, help: "Config file (TOML). Without one: the built-in defaults.")
    public var config: String?

    @Option(name: .long, help: "Client port (overrides gateway.port).")
    public var port: Int?

    @Option(name: .customLong("data-dir"), help: "Data folder (overrides data_dir).")
    public var dataDirectory: String?

    @Option(name: .customLong("set"), help: "Override any setting: --set auth.scrypt_n=1024 (repeatable).")
    public var overrides: [String] = []

    public init() {}

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

    /// The same options as arguments, to hand a child process exactly this configuration.
    public var asArguments: [String] {
        var arguments: [String] = []
        if let config { arguments += ["--config", config] }
        if let port { arguments += ["--port", String(port)] }
        if let dataDirectory { arguments += ["--data-dir", dataDirectory] }
        for override in overrides { arguments += ["--set", override] }
        return arguments
    }
}
