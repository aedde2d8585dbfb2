import ChatProtocol
import Foundation

/// Where `chat --ticket-file` keeps its session resumption ticket between runs, so that the
/// next run signs in without the password: one line, `<uid> <ticket>`, in a file only its
/// owner may read. Made owner-only (0600) and replaced whole (a new file renamed over it); a
/// file that others may read, or someone else's, is not used, as ssh does not use such a key.
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

    /// The ticket saved; nil when there is none. Read from the file opened (not followed if
    /// a symbolic link), and only if it is the user's and no one else may read it.
    public func load() throws -> Saved? {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw Unusable(description: "cannot read the ticket file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_uid == getuid() else {
            throw Unusable(description: "the ticket file \(path) is not a file of yours")
        }
        guard status.st_mode & 0o077 == 0 else {
            throw Unusable(description: "the ticket file \(path) may be read by others (chmod 600 it, or remove it)")
        }
        var contents = [UInt8](repeating: 0, count: 128)
        let count = contents.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        let words = String(decoding: contents.prefix(max(count, 0)), as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard words.count == 2, Identifiers.isValidUID(words[0]), Identifiers.isResumeTicket(words[1]) else {
            throw Unusable(description: "the ticket file \(path) holds no ticket (expected `<uid> <ticket>`)")
        }
        return Saved(uid: String(words[0]), ticket: String(words[1]))
    }

    /// Replaces the file with `saved`: written whole to a new owner-only file (whatever the
    /// umask; never through a link someone left at its name), flushed to disk, then renamed
    /// over the old one, so a crash leaves the old ticket or the new, not half of one.
    func save(_ saved: Saved) throws {
        let temporary = path + ".new"
        unlink(temporary)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Unusable(description: "cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let line = Array("\(saved.uid) \(saved.ticket)\n".utf8)
        let written = fchmod(descriptor, 0o600) == 0
            && line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) } == line.count
            && fsync(descriptor) == 0
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
