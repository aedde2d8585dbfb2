import ChatCrypto
import CLinux
import Foundation

/// The files of one partition: `files/partition-N/<blob id>`, with uploads in progress under
/// `tmp/`. Blob ids are random; the names users chose live only in SQLite, so no name can
/// ever reach the file system as a path.
struct BlobFolder: Sendable {
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

    /// Where upload `id` is written until it is stored. Named by the id, so the partition's next
    /// owner finds an upload handed over in a move (`reopenTemporary`).
    func temporary(ofUpload id: UInt64) -> String { "\(temporaryPath)/upload-\(String(id, radix: 16))" }

    /// An upload's file once its worker let the partition go: kept for the next owner, unlike
    /// the file of an upload a crash cut short.
    static let handedOverSuffix = ".handed-over"

    /// A new empty file for upload `id`; returns its descriptor and path.
    func createTemporary(ofUpload id: UInt64) throws -> (descriptor: Int32, path: String) {
        let file = temporary(ofUpload: id)
        let descriptor = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw IOError("open", file) }
        return (descriptor, file)
    }

    /// Closes an upload's file and marks it handed over, as its worker lets the partition go.
    static func handOver(descriptor: Int32, temporary: String) {
        close(descriptor)
        rename(temporary, temporary + handedOverSuffix)
    }

    /// Opens upload `id`'s file, which a previous owner of the partition handed over, to carry
    /// on after its first `received` bytes: anything past them (written, never confirmed) is
    /// cut. It is this worker's upload from now on (no longer marked handed over).
    func reopenTemporary(ofUpload id: UInt64, received: Int64) throws -> (descriptor: Int32, path: String) {
        let file = temporary(ofUpload: id)
        let handedOver = file + Self.handedOverSuffix
        let descriptor = open(handedOver, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw IOError("open", handedOver) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, Int64(status.st_size) >= received,
              ftruncate(descriptor, off_t(received)) == 0, lseek(descriptor, off_t(received), SEEK_SET) == off_t(received),
              rename(handedOver, file) == 0 else {
            close(descriptor)
            throw IOError("resume (\(received) bytes)", handedOver)
        }
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
    /// committed (the crash came between the rename and the commit). Uploads handed over stay
    /// while fresh (written within `handedOverIdleFor` seconds): their gateways resume them here.
    func removeLeftovers(keeping referenced: Set<String>, handedOverIdleFor idle: TimeInterval) -> Int {
        var removed = 0
        let manager = FileManager.default
        for name in (try? manager.contentsOfDirectory(atPath: temporaryPath)) ?? [] {
            let file = "\(temporaryPath)/\(name)"
            if name.hasSuffix(Self.handedOverSuffix), !Self.isIdle(file, for: idle) { continue }
            if (try? manager.removeItem(atPath: file)) != nil { removed += 1 }
        }
        for name in (try? manager.contentsOfDirectory(atPath: path)) ?? [] where name != "tmp" && !referenced.contains(name) {
            if (try? manager.removeItem(atPath: blobPath(name))) != nil { removed += 1 }
        }
        return removed
    }

    /// Removes uploads handed over to this worker and not resumed for `idle` seconds (their
    /// clients left).
    func removeAbandonedUploads(idleFor idle: TimeInterval) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: temporaryPath)) ?? [] where name.hasSuffix(Self.handedOverSuffix) {
            let file = "\(temporaryPath)/\(name)"
            if Self.isIdle(file, for: idle) { unlink(file) }
        }
    }

    private static func isIdle(_ file: String, for seconds: TimeInterval) -> Bool {
        guard let written = (try? FileManager.default.attributesOfItem(atPath: file))?[.modificationDate] as? Date else { return true }
        return written < Date(timeIntervalSinceNow: -seconds)
    }
}
