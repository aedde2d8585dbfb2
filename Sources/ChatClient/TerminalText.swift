/// Text from other users or the server, made safe to print on a terminal: nothing in it can
/// move the cursor, clear the screen, set the title, overwrite a line or reorder what follows.
///
/// Every C0 control, DEL, every C1 control and the bidi controls are shown escaped, as are
/// backslashes, so an escape the sender typed stays distinguishable from one made here:
/// - `\\` for a backslash; `\e` (ESC), `\r`, `\n` and `\t` (TAB is escaped too, not spaced);
/// - `\xHH` for the other controls, U+0000-U+001F, U+007F and U+0080-U+009F (`\x07`, `\x9B`);
/// - `\u{HHHH}` for the bidi controls U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069.
/// Everything else, letters of any script and emoji included, is left as it is.
enum TerminalText {
    static func escaped<S: StringProtocol>(_ text: S) -> String {
        guard text.unicodeScalars.contains(where: needsEscaping) else { return String(text) }
        var result = ""
        result.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\u{1B}": result += "\\e"
            case "\r": result += "\\r"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case _ where isControl(scalar): result += "\\x" + hex(scalar.value, digits: 2)
            case _ where isBidiControl(scalar): result += "\\u{" + hex(scalar.value, digits: 4) + "}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func needsEscaping(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\\" || isControl(scalar) || isBidiControl(scalar)
    }

    /// C0, DEL and C1: Unicode's Cc.
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// The marks and embeddings, overrides and isolates that reorder the text around them.
    private static func isBidiControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
