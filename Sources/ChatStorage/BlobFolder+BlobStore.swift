import Foundation

/// A folder's blobs through `BlobStore`: an upload is a file in `tmp/`, a blob a file named
/// by its id.
extension BlobFolder: BlobStore {
    func createUpload(id: UInt64) throws -> any BlobUpload {
        let (descriptor, path) = try createTemporary(ofUpload: id)
        return FolderUpload(folder: self, descriptor: descriptor, temporary: path)
    }

    func resumeUpload(id: UInt64, received: Int64) throws -> any BlobUpload {
        let (descriptor, path) = try reopenTemporary(ofUpload: id, received: received)
        return FolderUpload(folder: self, descriptor: descriptor, temporary: path)
    }

    func openBlob(_ blob: String, size: Int64) throws -> any StoredBlob {
        let path = blobPath(blob)
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw IOError("open", path) }
        return FolderBlob(descriptor: descriptor, localPath: URL(fileURLWithPath: path).path)
    }

    func removeLeftovers(keeping referenced: () throws -> Set<String>, handedOverIdleFor idle: TimeInterval) throws -> Int {
        removeLeftovers(keeping: try referenced(), handedOverIdleFor: idle)
    }

    func removeBlob(_ blob: String) { unlink(blobPath(blob)) }
}

/// An upload written to a file in the folder's `tmp/`, renamed into place when durable.
///
/// Unchecked: used on the worker's file queue only.
final class FolderUpload: BlobUpload, @unchecked Sendable {
    private let folder: BlobFolder
    /// -1 once closed (`makeDurable` closes it, succeeding or not).
    private var descriptor: Int32
    private let temporary: String

    init(folder: BlobFolder, descriptor: Int32, temporary: String) {
        self.folder = folder
        self.descriptor = descriptor
        self.temporary = temporary
    }

    func append(_ bytes: [UInt8], writeBack: Bool) throws {
        try BlobFolder.append(bytes, to: descriptor)
        if writeBack { BlobFolder.startWriteBack(descriptor) }
    }

    func makeDurable() throws -> String {
        defer { descriptor = -1 }
        return try folder.makeDurable(descriptor: descriptor, temporary: temporary)
    }

    func discard() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
        unlink(temporary)
    }

    func handOver() {
        BlobFolder.handOver(descriptor: descriptor, temporary: temporary)
        descriptor = -1
    }

    func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }
}

/// A blob file open for reading.
final class FolderBlob: StoredBlob, Sendable {
    private let descriptor: Int32
    let localPath: String

    init(descriptor: Int32, localPath: String) {
        self.descriptor = descriptor
        self.localPath = localPath
    }

    func read(offset: Int64, length: Int) throws -> [UInt8] { try BlobFolder.read(descriptor, offset: offset, length: length) }

    func close() { Glibc.close(descriptor) }
}
