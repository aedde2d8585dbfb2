/// A configuration chatd cannot run with: one case per problem, each saying what is wrong
/// in words an operator can act on.
public enum ConfigurationError: Error, Equatable, CustomStringConvertible {
    /// `--config` names a file that cannot be read.
    case unreadableFile(path: String, reason: String)
    /// The config file is not TOML; `reason` is the parser's.
    case syntax(line: Int, reason: String)
    /// The config file sets a key, or opens a table, a second time. TOML forbids it, and
    /// refusing is safer than letting one of the two values win unnoticed.
    case duplicateKey(line: Int, reason: String)
    /// A key no setting has (a typo, or a setting from another version).
    case unknownSetting(key: String)
    /// A known setting given a value it cannot take.
    case wrongValue(key: String, expected: ExpectedValue)
    /// `--set` without `=`.
    case overrideWithoutValue(argument: String)
    /// `--set key=value` whose value is not one TOML value.
    case unreadableOverride(key: String, text: String, reason: String)
    /// Settings that are well formed but do not fit what they meet, such as a data folder
    /// created with another partition count; the worker that finds it words the message.
    case mismatch(String)

    /// A `mismatch`, for the checks a worker makes when it starts.
    public init(_ mismatch: String) { self = .mismatch(mismatch) }

    public var description: String {
        switch self {
        case .unreadableFile(let path, let reason):
            "cannot read config file \(path): \(reason)"
        case .syntax(let line, let reason):
            "line \(line): \(reason)"
        case .duplicateKey(let line, let reason):
            "line \(line): duplicate key (\(reason))"
        case .unknownSetting(let key):
            "\(key): unknown setting"
        case .wrongValue(let key, let expected):
            "\(key): expected \(expected)"
        case .overrideWithoutValue(let argument):
            "--set wants key=value, got '\(argument)'"
        case .unreadableOverride(let key, let text, let reason):
            "--set \(key)=\(text): \(reason); strings are quoted: --set \(key)='\"text\"'"
        case .mismatch(let description):
            description
        }
    }
}
