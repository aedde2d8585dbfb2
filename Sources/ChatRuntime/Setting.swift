/// One key a config file or `--set` may name: the value it takes, the field it sets, and
/// whether a running process can take a new value on reload (`live`) or keeps the one it
/// started with until it is restarted.
struct Setting: Sendable {
    let expected: ExpectedValue
    /// Whether a reload applies a new value in a running process. False unless the table
    /// says so, so a setting added later needs a restart until someone makes it live.
    private(set) var live = false
    /// For a live setting: whether this particular change can be taken live (nil: any can).
    private(set) var liveWhen: (@Sendable (_ old: ChatConfiguration, _ new: ChatConfiguration) -> Bool)?
    /// Stores `value` and answers true, or answers false when it is not what `expected` says.
    let assign: @Sendable (inout ChatConfiguration, ConfigFile.Value) -> Bool
    /// Whether two configurations hold the same value for this setting.
    let isSame: @Sendable (ChatConfiguration, ChatConfiguration) -> Bool
    /// Copies this setting's value from the second configuration into the first.
    let copy: @Sendable (inout ChatConfiguration, ChatConfiguration) -> Void
    /// This setting's value in `configuration`, as a file would hold it.
    let value: @Sendable (ChatConfiguration) -> ConfigFile.Value

    /// This setting, taken on reload by a running process.
    var changesLive: Setting {
        var setting = self
        setting.live = true
        return setting
    }

    /// This setting, taken on reload when `allowed` says the change can be; other changes
    /// need a restart.
    func changesLive(when allowed: @escaping @Sendable (_ old: ChatConfiguration, _ new: ChatConfiguration) -> Bool) -> Setting {
        var setting = changesLive
        setting.liveWhen = allowed
        return setting
    }

    /// Whether a reload takes the change from `old` to `new` of this setting.
    func isLive(from old: ChatConfiguration, to new: ChatConfiguration) -> Bool {
        live && (liveWhen?(old, new) ?? true)
    }

    /// A setting of `field`, which `convert` fills from a file's value (nil: not what is
    /// expected) and `written` turns back into one.
    private static func field<Field: Equatable & Sendable>(
        _ field: WritableKeyPath<ChatConfiguration, Field> & Sendable, expected: ExpectedValue,
        written: @escaping @Sendable (Field) -> ConfigFile.Value,
        _ convert: @escaping @Sendable (ConfigFile.Value) -> Field?
    ) -> Setting {
        Setting(expected: expected,
                assign: { configuration, value in
                    guard let converted = convert(value) else { return false }
                    configuration[keyPath: field] = converted
                    return true
                },
                isSame: { $0[keyPath: field] == $1[keyPath: field] },
                copy: { $0[keyPath: field] = $1[keyPath: field] },
                value: { written($0[keyPath: field]) })
    }

    static func string(_ field: WritableKeyPath<ChatConfiguration, String> & Sendable) -> Setting {
        Self.field(field, expected: .string, written: { .string($0) }) { value in
            guard case .string(let text) = value else { return nil }
            return text
        }
    }

    /// A string that must be one of `choices`, so that a typo is refused rather than read as a default.
    static func oneOf(_ choices: [String], _ field: WritableKeyPath<ChatConfiguration, String> & Sendable) -> Setting {
        Self.field(field, expected: .oneOf(choices), written: { .string($0) }) { value in
            guard case .string(let text) = value, choices.contains(text) else { return nil }
            return text
        }
    }

    static func boolean(_ field: WritableKeyPath<ChatConfiguration, Bool> & Sendable) -> Setting {
        Self.field(field, expected: .boolean, written: { .boolean($0) }) { value in
            guard case .boolean(let flag) = value else { return nil }
            return flag
        }
    }

    static func nonEmptyStrings(_ field: WritableKeyPath<ChatConfiguration, [String]> & Sendable) -> Setting {
        Self.field(field, expected: .nonEmptyStrings, written: { .strings($0) }) { value in
            guard case .strings(let items) = value, !items.isEmpty else { return nil }
            return items
        }
    }

    static func strings(_ field: WritableKeyPath<ChatConfiguration, [String]> & Sendable) -> Setting {
        Self.field(field, expected: .strings, written: { .strings($0) }) { value in
            guard case .strings(let items) = value else { return nil }
            return items
        }
    }

    static func integer(in range: ClosedRange<Int>, _ field: WritableKeyPath<ChatConfiguration, Int> & Sendable) -> Setting {
        Self.field(field, expected: .integer(in: range), written: { .integer($0) }) { value in
            guard case .integer(let number) = value, range.contains(number) else { return nil }
            return number
        }
    }

    /// An integer setting held as `Int64` (byte counts that may pass 2 GiB on any platform).
    static func integer(in range: ClosedRange<Int>, _ field: WritableKeyPath<ChatConfiguration, Int64> & Sendable) -> Setting {
        Self.field(field, expected: .integer(in: range), written: { .integer(Int($0)) }) { value in
            guard case .integer(let number) = value, range.contains(number) else { return nil }
            return Int64(number)
        }
    }

    static func powerOfTwo(in range: ClosedRange<Int>, _ field: WritableKeyPath<ChatConfiguration, Int> & Sendable) -> Setting {
        Self.field(field, expected: .powerOfTwo(in: range), written: { .integer($0) }) { value in
            guard case .integer(let number) = value, range.contains(number), number > 0, number & (number - 1) == 0 else { return nil }
            return number
        }
    }
}
