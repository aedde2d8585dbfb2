/// A string between double quotes, escaped so that it reads back the same both as a JSON string
/// and as a TOML basic string, which share these escapes (`\"`, `\\`, `\n`, `\r`, `\t`, and
/// `\uXXXX` for any other control character): the JSON log lines and the configuration the
/// supervisor writes for its children are quoted here.
enum QuotedString {
    /// `text` quoted: quotes, backslashes and every control character escaped (a raw newline
    /// would split a line); the rest, non-ASCII included, as it is, in UTF-8.
    static func append(_ text: String, to line: inout String) {
        line += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": line += "\\\""
            case "\\": line += "\\\\"
            case "\n": line += "\\n"
            case "\r": line += "\\r"
            case "\t": line += "\\t"
            // JSON allows U+2028 and U+2029 raw, but JavaScript before ES2019 did not, and some
            // line-oriented tools take them for line ends.
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\u{2028}" || scalar == "\u{2029}":
                let hex = String(scalar.value, radix: 16)
                line += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: line.unicodeScalars.append(scalar)
            }
        }
        line += "\""
    }
}
