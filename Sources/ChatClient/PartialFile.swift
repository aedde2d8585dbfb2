import CLinux
import Foundation

/// A file being received into the downloads folder: written without a name (O_TMPFILE) and
/// given one only once it is whole and checked, so a transfer that fails, or a client killed
/// in the middle of one, leaves nothing behind. Where the file system cannot make unnamed
/// files, it is written as `<name>.part` and removed on failure (not after a kill).
final class PartialFile {
    struct Failure: Error, CustomStringConvertible { let description: String }

    private let descriptor: Int32
    private let folder: DownloadsFolder
    private let name: String
    /// The visible name it is written under, when unnamed files are not available.
    private let partPath: String?
    private var done = false

    /// Ready to receive the file the server or a peer named `name`, into `folder`.
    init(named name: String, in folder: DownloadsFolder) throws {
        self.folder = folder
        self.name = name
        try folder.create()
        let unnamed = open_unnamed_file(folder.path)
        if unnamed >= 0 {
            descriptor = unnamed
            partPath = nil
        } else {
            // Named only where unnamed files cannot be: the free name is looked for then.
            let part = try folder.destination(for: name) + ".part"
            descriptor = open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw Failure(description: "cannot write into \(folder.path)") }
            partPath = part
        }
    }

    deinit {
        if !done { discard() }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw Failure(description: "cannot write into \(folder.path): \(String(cString: strerror(errno)))") }
            offset += written
        }
    }

    /// Gives the whole file its name (a new one in the folder, never over another file):
    /// the path it is kept at.
    func keep() throws -> String {
        guard !done else { throw Failure(description: "already kept or discarded") }
        // On disk before it has a name: a crash never leaves a named file cut short.
        guard fsync(descriptor) == 0 else {
            throw Failure(description: "cannot write \(name) into \(folder.path): \(String(cString: strerror(errno)))")
        }
        for _ in 0..<5 {
            let path = try folder.destination(for: name)
            let named: Bool
            if let partPath {
                // Not over a file that appeared since `destination` looked; once named, the
                // `.part` name is only a second one.
                named = link(partPath, path) == 0
                if named { unlink(partPath) }
            } else {
                named = linkat(AT_FDCWD, "/proc/self/fd/\(descriptor)", AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0
            }
            if named {
                done = true
                close(descriptor)
                return path
            }
            guard errno == EEXIST else { break }
        }
        throw Failure(description: "cannot keep \(name) in \(folder.path): \(String(cString: strerror(errno)))")
    }

    /// Drops what was received.
    func discard() {
        guard !done else { return }
        done = true
        close(descriptor)
        if let partPath { unlink(partPath) }
    }
}
