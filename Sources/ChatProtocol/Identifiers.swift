/// The validation rules for what a client may name on the wire.
public enum Identifiers {
    /// A uid is exactly 6 ASCII digits.
    public static func isValidUID<S: StringProtocol>(_ text: S) -> Bool {
        let utf8 = text.utf8
        return utf8.count == 6 && utf8.allSatisfy(isDigit)
    }

    /// What the client sends as a password: 1 to 128 of `[A-Za-z0-9_]` (a lowercase hex
    /// SHA-256 from our client, but any client may choose its own within these rules).
    public static func isValidWirePassword<S: StringProtocol>(_ text: S) -> Bool {
        let utf8 = text.utf8
        return (1...128).contains(utf8.count) && utf8.allSatisfy { isDigit($0) || isLetter($0) || $0 == UInt8(ascii: "_") }
    }

    /// A session resumption ticket: 128 random bits as 32 lowercase hex digits (docs/protocol.md).
    public static func isResumeTicket<S: StringProtocol>(_ text: S) -> Bool {
        isLowercaseHex(text, digits: 32)
    }

    /// A family of resumption tickets (one device's chain of them): 64 random bits as 16
    /// lowercase hex digits, named by the gateway, never seen by clients.
    public static func isTicketFamily<S: StringProtocol>(_ text: S) -> Bool {
        isLowercaseHex(text, digits: 16)
    }

    private static func isLowercaseHex<S: StringProtocol>(_ text: S, digits: Int) -> Bool {
        let utf8 = text.utf8
        return utf8.count == digits && utf8.allSatisfy { isDigit($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }

    /// `YYYYMMDDhhmm`, 12 digits naming a real minute of the Gregorian calendar.
    public static func isValidTimestamp<S: StringProtocol>(_ text: S) -> Bool {
        isValidTimestamp(digits: text.utf8)
    }

    /// The same check on the timestamp's bytes, without copying them (every text has one).
    public static func isValidTimestamp<D: Collection>(digits: D) -> Bool where D.Element == UInt8 {
        guard digits.count == 12, digits.allSatisfy(isDigit) else { return false }
        var fields = (year: 0, month: 0, day: 0, hour: 0, minute: 0)
        for (offset, byte) in digits.enumerated() {
            let digit = Int(byte - UInt8(ascii: "0"))
            switch offset {
            case 0..<4: fields.year = fields.year * 10 + digit
            case 4..<6: fields.month = fields.month * 10 + digit
            case 6..<8: fields.day = fields.day * 10 + digit
            case 8..<10: fields.hour = fields.hour * 10 + digit
            default: fields.minute = fields.minute * 10 + digit
            }
        }
        guard fields.year >= 1, (1...12).contains(fields.month), fields.hour < 24, fields.minute < 60 else { return false }
        return (1...daysIn(month: fields.month, year: fields.year)).contains(fields.day)
    }

    /// Uploads declare their size as 1 to 19 ASCII digits. The few 19-digit values past
    /// Int64.max are valid sizes too, just too large for any limit: they read as Int64.max.
    public static func parseSize<S: StringProtocol>(_ text: S) -> Int64? {
        let utf8 = text.utf8
        guard (1...19).contains(utf8.count), utf8.allSatisfy(isDigit) else { return nil }
        return Int64(text) ?? .max
    }

    /// Valid UTF-8, checked without building a String; plain ASCII (most chat) takes one pass.
    public static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        if isASCII(bytes) { return true }
        return String(validating: bytes, as: UTF8.self) != nil
    }

    /// Eight bytes at a time: most content lines are ASCII, and every one is checked.
    static func isASCII(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var index = 0
            while index + 8 <= raw.count {
                if raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
                index += 8
            }
            while index < raw.count {
                if raw[index] >= 0x80 { return false }
                index += 1
            }
            return true
        }
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }
}
