/// The rules for names of files and voice messages sent through the server.
public enum FileNames {
    /// 1 to 255 bytes of UTF-8, no `/`, `\` or control character (Unicode Cc), not `.` or `..`.
    public static func isValidFileName(_ bytes: [UInt8]) -> Bool {
        guard (1...255).contains(bytes.count), let name = String(validating: bytes, as: UTF8.self) else { return false }
        guard name != ".", name != ".." else { return false }
        return !name.unicodeScalars.contains { scalar in
            scalar == "/" || scalar == "\\" || scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value)
        }
    }

    /// `<12 ASCII digits>_audio.<1 to 8 ASCII letters or digits>`.
    public static func isValidAudioName(_ bytes: [UInt8]) -> Bool {
        let prefixLength = 12 + "_audio.".utf8.count
        guard bytes.count > prefixLength, bytes.count <= prefixLength + 8 else { return false }
        guard bytes[0..<12].allSatisfy(Identifiers.isDigit),
              Array(bytes[12..<prefixLength]) == Array("_audio.".utf8) else { return false }
        return bytes[prefixLength...].allSatisfy { Identifiers.isDigit($0) || Identifiers.isLetter($0) }
    }

    /// What a download may ask for: any name a file or voice message may be stored under
    /// (a renamed copy, `name (2).ext`, is a file name too).
    public static func isValidStoredName(_ bytes: [UInt8]) -> Bool {
        isValidFileName(bytes) || isValidAudioName(bytes)
    }

    /// The name a file is stored under when `name` is already taken in the pair's history:
    /// `copy` 2 gives `name (2).ext`. The extension starts at the last dot, unless that dot
    /// begins the name: `a.tar.gz` -> `a.tar (2).gz`, `.bashrc` -> `.bashrc (2)`.
    public static func variant(of name: String, copy: Int) -> String {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "\(name) (\(copy))" }
        return "\(name[..<dot]) (\(copy))\(name[dot...])"
    }
}
