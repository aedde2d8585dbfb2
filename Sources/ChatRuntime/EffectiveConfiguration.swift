import Foundation

/// The configuration the supervisor runs its children with, written in full to the data
/// folder (`chatd-effective.toml`): the defaults, the operator's file, `--set`, `--port` and
/// `--data-dir` as the supervisor resolved them, and after a reload its live changes only.
///
/// Children read this file, never the operator's: a child restarted after a crash then runs
/// with what its siblings run with, not with a setting edited since that needs a restart (new
/// storage endpoints, a port), and a reload reaches every process the same.
public enum EffectiveConfiguration {
    public static func path(dataDirectory: String) -> String {
        "\(dataDirectory)/chatd-effective.toml"
    }

    /// Writes `configuration` whole, replacing the file at once (a child starting meanwhile
    /// reads the old one or the new one, never half of one).
    public static func write(_ configuration: ChatConfiguration) throws {
        let text = "# Written by the chatd supervisor: what its processes run with. Edit the config file\n"
            + "# it was started with instead, then reload.\n"
            + ConfigFile.write(configuration.fileValues)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path(dataDirectory: configuration.dataDirectory)), options: .atomic)
    }
}

extension ChatConfiguration {
    /// Every setting's value, by dotted key, as a config file holds it.
    var fileValues: [String: ConfigFile.Value] {
        Self.settings.mapValues { $0.value(self) }
    }
}
