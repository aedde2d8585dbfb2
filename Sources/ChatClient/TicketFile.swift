import ChatProtocol
import Foundation

/// Where `chat --ticket-file` keeps its session resumption ticket between runs, so that the
/// next run signs in without the password: one line, `<uid> <ticket>`, in a file only its
/// owner may read. Made owner-only (0600) and replaced whole (a new file renamed over it); a
/// file that others may read is not used, as ssh does not use such a key.
public struct TicketFile: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    public struct Saved: Equatable, Sendable {
        public let uid: String
        public let ticket: String
    }

    public struct Unusable: Error, CustomStringConvertible {
        public let description: String
    }

    /// The ticket saved; nil when there is none.
    public func load() throws -> Saved? {
        var status = stat()
        guard stat(path, &status) == 0 else {
            if errno == ENOENT { return nil }
            throw Unusable(description: "cannot read the ticket file \(path): \(String(cString: strerror(errno)))")
        }
        guard status.st_mode & 0o077 == 0 else {
            throw Unusable(description: "the ticket file \(path) may be read by others (chmod 600 it, or remove it)")
        }
        guard let contents = FileManager.default.contents(atPath: path) else {
            throw Unusable(description: "cannot read the ticket file \(path)")
        }
        let words = String(decoding: contents, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard words.count == 2, Identifiers.isValidUID(words[0]), Identifiers.isResumeTicket(words[1]) else {
            throw Unusable(description: "the ticket file \(path) holds no ticket (expected `<uid> <ticket>`)")
        }
        return Saved(uid: String(words[0]), ticket: String(words[1]))
    }

    /// Replaces the file with `saved`, owner-only whatever the umask.
    func save(_ saved: Saved) throws {
        let temporary = path + ".new"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Unusable(description: "cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let line = Array("\(saved.uid) \(saved.ticket)\n".utf8)
        // An earlier file of that name may have had other permissions.
        let written = fchmod(descriptor, 0o600) == 0 && line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) } == line.count
        close(descriptor)
        guard written, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw Unusable(description: "cannot write the ticket file \(path): \(String(cString: strerror(errno)))")
        }
    }

    func remove() {
        unlink(path)
    }
}
