import Foundation

/// Where one partition's file bytes are kept: a folder (`BlobFolder`: the data folder's, or a
/// shared one) or PostgreSQL (`PostgresBlobStore`). A stored file is a blob, named by a
/// random id its history record carries; the names users chose never reach the store.
///
/// Used on the storage worker's file queue, except `removeLeftovers` (on the bus loop, as a
/// partition is taken) and `openBlob` (on the partition's queue, beside the record's lookup;
/// it opens a file, or for PostgreSQL only notes the blob).
protocol BlobStore: Sendable {
    /// A new, empty upload, `id` being the worker's upload id.
    func createUpload(id: UInt64) throws -> any BlobUpload
    /// Upload `id`, which another worker (or this one in an earlier life) began, carried on
    /// after its first `received` bytes: anything past them (written, never confirmed) is cut.
    func resumeUpload(id: UInt64, received: Int64) throws -> any BlobUpload
    /// A stored blob, for reading.
    func openBlob(_ blob: String, size: Int64) throws -> any StoredBlob
    /// Removes what a crash can leave (uploads in progress, blobs no record names; uploads
    /// handed over stay while fresh), as the partition is taken; returns how many went.
    /// `referenced` is asked only if needed.
    func removeLeftovers(keeping referenced: () throws -> Set<String>, handedOverIdleFor idle: TimeInterval) throws -> Int
    /// Removes uploads left untouched for `idle` seconds (their clients left, or their worker died).
    func removeAbandonedUploads(idleFor idle: TimeInterval)
    /// Removes a durable blob whose record could not be committed.
    func removeBlob(_ blob: String)
}

/// An upload's bytes as they arrive, in order.
protocol BlobUpload: AnyObject, Sendable {
    /// Writes `bytes` at the end; `writeBack` starts writing what is buffered to disk.
    func append(_ bytes: [UInt8], writeBack: Bool) throws
    /// Makes every byte durable and returns the blob's id: only then may a record name it.
    func makeDurable() throws -> String
    /// Drops the upload and its bytes (after `makeDurable` failed too).
    func discard()
    /// Keeps the bytes for the partition's next owner, which resumes it (`resumeUpload`).
    func handOver()
    /// Lets go of it without deciding (the partition went to another worker meanwhile).
    func close()
}

/// A stored blob being read.
protocol StoredBlob: AnyObject, Sendable {
    /// A file another process on this machine may send from directly; empty if none.
    var localPath: String { get }
    /// Up to `length` bytes at `offset`.
    func read(offset: Int64, length: Int) throws -> [UInt8]
    func close()
}
