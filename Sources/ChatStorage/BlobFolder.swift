import ChatCrypto
import CLinux
import Foundation

/// The files of one partition: `files/partition-N/<blob id>`, with uploads in progress under
/// `tmp/`. Blob ids are random; the names users chose live only in SQLite, so no name can
/// ever reach the file system as a path.
struct BlobFolder {
    let path: String
    var temporaryPath: String { "\(path)/tmp" }

    struct IOError: Error, CustomStringConvertible {
        let description: String
        init(_ call: String, _ path: String) { description = "\(call) \(path): \(String(cString: strerror(errno)))" }
    }

    init(root: String, partition: Int) throws {
        path = Self.path(root: root, partition: partition)
        try FileManager.default.createDirectory(atPath: "\(path)/tmp", withIntermediateDirectories: true)
    }

    static func path(root: String, partition: Int) -> String { "\(root)/partition-\(partition)" }

    func blobPath(_ blob: String) -> String { "\(path)/\(blob)" }

    /// A new empty file for an upload; returns its descriptor and path.
    func createTemporary() throws -> (descriptor: Int32, path: String) {
        let file = "\(temporaryPath)/\(SecureRandom.bytes(12).hexString)"
        let descriptor = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw IOError("open", file) }
        return (descriptor, file)
    }

    /// Writes all of `bytes` at the end of the file.
    static func append(_ bytes: [UInt8], to descriptor: Int32) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw IOError("write", "upload")
            }
            offset += written
        }
    }

    /// fsyncs and closes the upload, moves it into place under a new blob id and fsyncs the
    /// folder, so the blob survives a crash before its record is committed.
    func makeDurable(descriptor: Int32, temporary: String) throws -> String {
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw IOError("fsync", temporary) }
        let blob = SecureRandom.bytes(16).hexString
        guard rename(temporary, blobPath(blob)) == 0 else { throw IOError("rename", temporary) }
        let folder = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folder >= 0 else { throw IOError("open", path) }
        defer { close(folder) }
        guard fsync(folder) == 0 else { throw IOError("fsync", path) }
        return blob
    }

    static func discard(descriptor: Int32, temporary: String) {
        close(descriptor)
        unlink(temporary)
    }

    /// Reads up to `length` bytes at `offset`.
    static func read(_ descriptor: Int32, offset: Int64, length: Int) throws -> [UInt8] {
        var failure: IOError?
        // Uninitialised, not zero-filled: pread overwrites it, and a megabyte memset per chunk shows.
        let bytes = [UInt8](unsafeUninitializedCapacity: length) { buffer, initialized in
            while initialized < length {
                let count = pread(descriptor, buffer.baseAddress! + initialized, length - initialized, off_t(offset) + off_t(initialized))
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = IOError("pread", "download")
                    return
                }
                if count == 0 { return }
                initialized += count
            }
        }
        if let failure { throw failure }
        return bytes
    }

    /// Starts writing the file's dirty pages to disk without waiting for them, so the fsync
    /// that makes an upload durable has only the tail left to wait for.
    static func startWriteBack(_ descriptor: Int32) {
        _ = sync_file_range(descriptor, 0, 0, UInt32(SYNC_FILE_RANGE_WRITE))
    }

    /// Removes what a crash can leave: uploads in progress, and blobs whose record was never
    /// committed (the crash came between the rename and the commit).
    func removeLeftovers(keeping referenced: Set<String>) -> Int {
        var removed = 0
        let manager = FileManager.default
        for name in (try? manager.contentsOfDirectory(atPath: temporaryPath)) ?? [] {
            if (try? manager.removeItem(atPath: "\(temporaryPath)/\(name)")) != nil { removed += 1 }
        }
        for name in (try? manager.contentsOfDirectory(atPath: path)) ?? [] where name != "tmp" && !referenced.contains(name) {
            if (try? manager.removeItem(atPath: blobPath(name))) != nil { removed += 1 }
        }
        return removed
    }
}
