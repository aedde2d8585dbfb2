import Foundation

/// A small file written whole and durable (the partition map, the bus key): first to a name of
/// this process's beside it, fsynced, which the caller then puts in place in one step (a
/// rename, or a link where none may exist yet), so no reader ever sees half of it.
enum DurableFile {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Writes `bytes` to `<path>.new-<pid>` with `mode` and fsyncs it; returns that name. On
    /// failure nothing is left behind.
    static func writeTemporary(_ bytes: [UInt8], beside path: String, mode: mode_t) throws(Failure) -> String {
        let temporary = "\(path).new-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw Failure(description: "cannot create \(temporary) (errno \(errno))") }
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let writeError = errno
        let synced = fsync(descriptor) == 0
        let syncError = errno
        close(descriptor)
        guard written == bytes.count, synced else {
            unlink(temporary)
            throw Failure(description: written == bytes.count ? "cannot sync \(temporary) (errno \(syncError))"
                                                              : "cannot write \(temporary) (errno \(writeError))")
        }
        return temporary
    }

    /// fsyncs the folder holding `path`, so that a name just put there survives a crash.
    static func syncFolder(of path: String) throws(Failure) {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure(description: "cannot open \(folder) to sync it (errno \(errno))") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw Failure(description: "cannot sync \(folder) (errno \(errno))") }
    }
}
