/// One key a config file or `--set` may name: the value it takes, and where that goes.
struct Setting: Sendable {
    let expected: ExpectedValue
    /// Stores `value` and answers true, or answers false when it is not what `expected` says.
    let assign: @Sendable (inout ChatConfiguration, ConfigFile.Value) -> Bool

    static func string(_ store: @escaping @Sendable (inout ChatConfiguration, String) -> Void) -> Setting {
        Setting(expected: .string) { configuration, value in
            guard case .string(let text) = value else { return false }
            store(&configuration, text)
            return true
        }
    }

    static func boolean(_ store: @escaping @Sendable (inout ChatConfiguration, Bool) -> Void) -> Setting {
        Setting(expected: .boolean) { configuration, value in
            guard case .boolean(let flag) = value else { return false }
            store(&configuration, flag)
            return true
        }
    }

    static func nonEmptyStrings(_ store: @escaping @Sendable (inout ChatConfiguration, [String]) -> Void) -> Setting {
        Setting(expected: .nonEmptyStrings) { configuration, value in
            guard case .strings(let items) = value, !items.isEmpty else { return false }
            store(&configuration, items)
            return true
        }
    }

    static func integer(in range: ClosedRange<Int>, _ store: @escaping @Sendable (inout ChatConfiguration, Int) -> Void) -> Setting {
        Setting(expected: .integer(in: range)) { configuration, value in
            guard case .integer(let number) = value, range.contains(number) else { return false }
            store(&configuration, number)
            return true
        }
    }

    static func powerOfTwo(in range: ClosedRange<Int>, _ store: @escaping @Sendable (inout ChatConfiguration, Int) -> Void) -> Setting {
        Setting(expected: .powerOfTwo(in: range)) { configuration, value in
            guard case .integer(let number) = value, range.contains(number), number > 0, number & (number - 1) == 0 else { return false }
            store(&configuration, number)
            return true
        }
    }
}
