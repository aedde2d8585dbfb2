import ChatProtocol
import Foundation

/// Where `/get` saves files: always inside this folder, whatever the name says, and never over
/// an existing file.
public struct DownloadsFolder: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// Makes the folder if it is not there yet.
    func create() throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A new path inside the folder for a file named `name` by the server.
    public func destination(for name: String) throws -> String {
        try create()
        let safe = Self.safeName(name)
        var candidate = safe
        var copy = 1
        while FileManager.default.fileExists(atPath: "\(path)/\(candidate)") {
            copy += 1
            candidate = FileNames.variant(of: safe, copy: copy)
        }
        return "\(path)/\(candidate)"
    }

    /// The name with separators and control characters replaced, never `.`, `..` or empty.
    static func safeName(_ name: String) -> String {
        let cleaned = String(String.UnicodeScalarView(name.unicodeScalars.map { scalar in
            scalar == "/" || scalar == "\\" || scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value) ? "_" : scalar
        }))
        if cleaned.isEmpty || cleaned == "." || cleaned == ".." { return "download" }
        return cleaned
    }
}
