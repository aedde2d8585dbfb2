/// The subset of TOML the configuration uses: `[section]` headers, `key = value` lines with
/// strings, integers, booleans and arrays of strings, and `#` comments. Keys come back
/// dotted (`gateway.port`).
public enum ConfigFile {
    public enum Value: Equatable, Sendable {
        case string(String)
        case integer(Int)
        case boolean(Bool)
        case strings([String])
    }

    /// Every key of the file with its value.
    public static func parse(_ text: String) throws(ConfigurationError) -> [String: Value] {
        var values: [String: Value] = [:]
        var section = ""
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = offset + 1
            let line = stripComment(rawLine).trimmingWhitespace()
            if line.isEmpty { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2 else { throw .syntax(line: lineNumber, reason: "bad section header") }
                section = String(line.dropFirst().dropLast()).trimmingWhitespace()
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { throw .syntax(line: lineNumber, reason: "expected key = value") }
            let key = String(line[..<equals]).trimmingWhitespace()
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                throw .syntax(line: lineNumber, reason: "bad key '\(key)'")
            }
            let fullKey = section.isEmpty ? key : "\(section).\(key)"
            do {
                values[fullKey] = try readValue(String(line[line.index(after: equals)...]).trimmingWhitespace())
            } catch {
                throw .syntax(line: lineNumber, reason: error.reason)
            }
        }
        return values
    }

    /// The key and value of `--set key=value`, the value written as in the file.
    public static func parseOverride(_ argument: String) throws(ConfigurationError) -> (key: String, value: Value) {
        guard let equals = argument.firstIndex(of: "=") else { throw .overrideWithoutValue(argument: argument) }
        let key = String(argument[..<equals])
        let text = String(argument[argument.index(after: equals)...])
        do {
            return (key, try readValue(text))
        } catch {
            throw .unreadableOverride(key: key, text: text, reason: error.reason)
        }
    }

    /// Why a value cannot be read; the caller adds where it was (a line, or `--set`).
    struct UnreadableValue: Error {
        let reason: String
    }

    private static func readValue(_ text: String) throws(UnreadableValue) -> Value {
        if text == "true" { return .boolean(true) }
        if text == "false" { return .boolean(false) }
        if let number = Int(text.replacingUnderscores()) { return .integer(number) }
        if text.hasPrefix("\"") { return .string(try parseString(Substring(text)).value) }
        if text.hasPrefix("[") && text.hasSuffix("]") {
            var rest = Substring(text.dropFirst().dropLast()).trimmingWhitespaceSubstring()
            var items: [String] = []
            while !rest.isEmpty {
                let (value, after) = try parseString(rest)
                items.append(value)
                rest = after.trimmingWhitespaceSubstring()
                if rest.hasPrefix(",") { rest = rest.dropFirst().trimmingWhitespaceSubstring() } else if !rest.isEmpty {
                    throw UnreadableValue(reason: "expected ',' in array")
                }
            }
            return .strings(items)
        }
        throw UnreadableValue(reason: "cannot read value '\(text)'")
    }

    private static func parseString(_ text: Substring) throws(UnreadableValue) -> (value: String, rest: Substring) {
        guard text.first == "\"" else { throw UnreadableValue(reason: "expected a quoted string") }
        var value = ""
        var index = text.index(after: text.startIndex)
        while index < text.endIndex {
            let character = text[index]
            if character == "\"" { return (value, text[text.index(after: index)...]) }
            if character == "\\" {
                index = text.index(after: index)
                guard index < text.endIndex else { break }
                switch text[index] {
                case "n": value.append("\n")
                case "t": value.append("\t")
                case "\"": value.append("\"")
                case "\\": value.append("\\")
                default: throw UnreadableValue(reason: "unknown escape")
                }
            } else {
                value.append(character)
            }
            index = text.index(after: index)
        }
        throw UnreadableValue(reason: "unterminated string")
    }

    private static func stripComment(_ line: Substring) -> Substring {
        var inString = false
        var escaped = false
        for index in line.indices {
            let character = line[index]
            if escaped { escaped = false; continue }
            if character == "\\" && inString { escaped = true; continue }
            if character == "\"" { inString.toggle() }
            if character == "#" && !inString { return line[..<index] }
        }
        return line
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String { String(trimmingWhitespaceSubstring()) }

    func trimmingWhitespaceSubstring() -> Substring {
        let scalars = Substring(self)
        guard let first = scalars.firstIndex(where: { !$0.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.isWhitespace })!
        return scalars[first...last]
    }

    func replacingUnderscores() -> String { String(filter { $0 != "_" }) }
}
