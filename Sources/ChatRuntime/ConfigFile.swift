import TOMLKit

/// The config file: TOML, read by TOMLKit (toml++), which refuses what TOML refuses, a key set
/// twice among it. Tables flatten into dotted keys (`[gateway]` `port = 1` is `gateway.port`).
public enum ConfigFile {
    /// The kinds of value a setting takes.
    public enum Value: Equatable, Sendable {
        case string(String)
        case integer(Int)
        case boolean(Bool)
        case strings([String])
        /// Valid TOML that no setting takes (a float, a date, an array of numbers), named by
        /// its TOML type; applying it fails with what the setting expects.
        case unsupported(String)
    }

    /// Every key of the file with its value.
    public static func parse(_ text: String) throws(ConfigurationError) -> [String: Value] {
        var values: [String: Value] = [:]
        flatten(try document(text), prefix: "", into: &values)
        return values
    }

    /// The key and value of `--set key=value`, the value written as in the file.
    public static func parseOverride(_ argument: String) throws(ConfigurationError) -> (key: String, value: Value) {
        guard let equals = argument.firstIndex(of: "=") else { throw .overrideWithoutValue(argument: argument) }
        let key = String(argument[..<equals])
        let text = String(argument[argument.index(after: equals)...])
        // Read as a one-line document, so that a value means the same here as in the file.
        let table: TOMLTable
        do {
            table = try TOMLTable(string: "value = \(text)")
        } catch {
            throw .unreadableOverride(key: key, text: text, reason: (error as? TOMLParseError)?.description ?? "\(error)")
        }
        guard table.count == 1, let node = table["value"] else {
            throw .unreadableOverride(key: key, text: text, reason: "more than one value")
        }
        return (key, value(of: node))
    }

    /// A file holding `values`, one dotted key a line, sorted, that `parse` reads back as they are.
    public static func write(_ values: [String: Value]) -> String {
        values.sorted { $0.key < $1.key }.compactMap { key, value in
            written(value).map { "\(key) = \($0)\n" }
        }.joined()
    }

    private static func written(_ value: Value) -> String? {
        switch value {
        case .string(let text): return quoted(text)
        case .integer(let number): return String(number)
        case .boolean(let flag): return flag ? "true" : "false"
        case .strings(let items): return "[" + items.map(quoted).joined(separator: ", ") + "]"
        case .unsupported: return nil
        }
    }

    private static func quoted(_ text: String) -> String {
        var result = ""
        QuotedString.append(text, to: &result)
        return result
    }

    /// toml++ words every second definition of a key or of a table this way.
    private static let redefinition = "cannot redefine existing"

    private static func document(_ text: String) throws(ConfigurationError) -> TOMLTable {
        do {
            return try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            let line = error.source.begin.line
            if let found = error.description.range(of: redefinition) {
                throw .duplicateKey(line: line, reason: String(error.description[found.lowerBound...]))
            }
            throw .syntax(line: line, reason: error.description)
        } catch {
            // TOMLKit throws nothing else; should a later version, the text is still at fault.
            throw .syntax(line: 1, reason: "\(error)")
        }
    }

    private static func flatten(_ table: TOMLTable, prefix: String, into values: inout [String: Value]) {
        for (key, node) in table {
            let dotted = prefix.isEmpty ? key : "\(prefix).\(key)"
            if let inner = node.table {
                flatten(inner, prefix: dotted, into: &values)
            } else {
                values[dotted] = value(of: node)
            }
        }
    }

    private static func value(of node: TOMLValueConvertible) -> Value {
        if let text = node.string { return .string(text) }
        if let number = node.int { return .integer(number) }
        if let flag = node.bool { return .boolean(flag) }
        if let array = node.array {
            let items = array.compactMap(\.string)
            if items.count == array.count { return .strings(items) }
        }
        return .unsupported("\(node.type)")
    }
}
