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
        try source.resolve()
    }

    /// What these options read, as a value a reload can read again from any thread.
    public var source: ConfigurationSource {
        ConfigurationSource(config: config, port: port, dataDirectory: dataDirectory, overrides: overrides)
    }

}
