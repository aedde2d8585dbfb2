import ChatCrypto
import Foundation
import Postgres

/// One partition's file bytes in PostgreSQL (`storage.backend = "postgres"` without
/// `storage.files_folder`): each blob in rows of at most `rowBytes` (`chat_blob_chunks`, by
/// byte offset), each upload in progress a row of `chat_uploads` naming its blob, so any
/// worker can serve any partition's files, and an upload whose worker died or let the
/// partition go is resumed by the next one from the bytes its gateway saw confirmed.
///
/// Memory stays bounded by a chunk per call, a 1 GiB file included. Chunks commit without
/// waiting for the disk (`synchronous_commit = off` for them alone); `makeDurable` then commits
/// with waiting, which flushes the log up to it and so every chunk before it, and checks the
/// bytes add up: only then does the record that names the blob commit (in the partition's
/// store, which also drops the upload's row in the same transaction). The rows are stored
/// uncompressed (`STORAGE EXTERNAL`): files are mostly compressed already.
///
/// The worker's one connection for file bytes is shared by its partitions' stores, and used
/// under a lock (the file queue is the only caller, but a lock costs nothing next to a round trip).
final class PostgresBlobStore: BlobStore, @unchecked Sendable {
    /// The worker's connection for file bytes, shared by every partition's store.
    final class Connection: @unchecked Sendable {
        private let connection: PostgresConnection
        private let lock = NSLock()

        init(url: String) throws {
            connection = try PostgresConnection(url: url)
        }

        func with<T>(_ body: (PostgresConnection) throws -> T) rethrows -> T {
            try lock.withLock { try body(connection) }
        }
    }

    /// The largest row of bytes: an upload's chunk is split into rows this size at most, so a
    /// read finds the row holding any offset among those starting less than this before it.
    static let rowBytes = 1 << 20

    private let connection: Connection
    private let partition: Int64

    init(connection: Connection, partition: Int) {
        self.connection = connection
        self.partition = Int64(partition)
    }

    func createUpload(id: UInt64) throws -> any BlobUpload {
        let blob = SecureRandom.bytes(16).hexString
        _ = try connection.with {
            try $0.query("INSERT INTO chat_uploads (upload, partition, blob, touched) VALUES ($1, $2, $3, now())",
                         [.integer(Int64(bitPattern: id)), .integer(partition), .text(blob)])
        }
        return PostgresUpload(connection: connection, upload: id, blob: blob, written: 0)
    }

    struct UploadNotFound: Error, CustomStringConvertible {
        let description: String
    }

    func resumeUpload(id: UInt64, received: Int64) throws -> any BlobUpload {
        let blob: String = try connection.with { connection in
            try connection.transaction {
                let rows = try connection.query("SELECT blob FROM chat_uploads WHERE upload = $1 AND partition = $2 FOR UPDATE",
                                                [.integer(Int64(bitPattern: id)), .integer(partition)])
                guard rows.count == 1 else { throw UploadNotFound(description: "upload \(id) is not in progress in partition \(partition)") }
                let blob = rows.text(0, 0)
                // What was written past the confirmed bytes goes: the gateway sends it again.
                try connection.query("DELETE FROM chat_blob_chunks WHERE blob = $1 AND start >= $2", [.text(blob), .integer(received)])
                try connection.query("""
                    UPDATE chat_blob_chunks SET bytes = substring(bytes FROM 1 FOR ($2 - start)::integer)
                    WHERE blob = $1 AND start < $2 AND start + length(bytes) > $2
                    """, [.text(blob), .integer(received)])
                let kept = try connection.query("SELECT coalesce(sum(length(bytes)), 0)::bigint FROM chat_blob_chunks WHERE blob = $1",
                                                [.text(blob)]).integer(0, 0)
                guard kept == received else {
                    throw UploadNotFound(description: "upload \(id) holds \(kept) bytes, not the \(received) confirmed")
                }
                try connection.query("UPDATE chat_uploads SET touched = now() WHERE upload = $1", [.integer(Int64(bitPattern: id))])
                return blob
            }
        }
        return PostgresUpload(connection: connection, upload: id, blob: blob, written: received)
    }

    func openBlob(_ blob: String, size: Int64) throws -> any StoredBlob {
        PostgresBlob(connection: connection, blob: blob, size: size)
    }

    /// Nothing at once: an upload a crash left is resumable here (its bytes are in the
    /// database), so it goes only once abandoned (`removeAbandonedUploads`).
    func removeLeftovers(keeping referenced: () throws -> Set<String>, handedOverIdleFor idle: TimeInterval) throws -> Int { 0 }

    func removeBlob(_ blob: String) {
        _ = try? connection.with {
            try $0.query("DELETE FROM chat_blob_chunks WHERE blob = $1 AND blob NOT IN (SELECT blob FROM chat_files)", [.text(blob)])
        }
    }

    func removeAbandonedUploads(idleFor idle: TimeInterval) {
        _ = try? connection.with { connection in
            try connection.query("""
                WITH abandoned AS (
                    DELETE FROM chat_uploads u WHERE partition = $1 AND touched < now() - $2 * interval '1 second'
                    RETURNING blob
                )
                DELETE FROM chat_blob_chunks WHERE blob IN (SELECT blob FROM abandoned)
                AND blob NOT IN (SELECT blob FROM chat_files)
                """, [.integer(partition), .integer(Int64(idle))])
        }
    }
}

/// An upload's bytes going into `chat_blob_chunks`.
///
/// Unchecked: used on the worker's file queue only.
final class PostgresUpload: BlobUpload, @unchecked Sendable {
    private let connection: PostgresBlobStore.Connection
    private let upload: UInt64
    private let blob: String
    /// Bytes written so far: the next row's offset.
    private var written: Int64

    init(connection: PostgresBlobStore.Connection, upload: UInt64, blob: String, written: Int64) {
        self.connection = connection
        self.upload = upload
        self.blob = blob
        self.written = written
    }

    func append(_ bytes: [UInt8], writeBack: Bool) throws {
        guard !bytes.isEmpty else { return }
        var statements: [(sql: String, parameters: [PostgresValue])] = [("SET LOCAL synchronous_commit = off", [])]
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + PostgresBlobStore.rowBytes, bytes.count)
            statements.append(("INSERT INTO chat_blob_chunks (blob, start, bytes) VALUES ($1, $2, $3)",
                               [.text(blob), .integer(written + Int64(offset)), .bytes(Array(bytes[offset..<end]))]))
            offset = end
        }
        statements.append(("UPDATE chat_uploads SET touched = now() WHERE upload = $1", [.integer(Int64(bitPattern: upload))]))
        try connection.with { try $0.pipelinedTransaction(statements) }
        written += Int64(bytes.count)
    }

    struct Incomplete: Error, CustomStringConvertible {
        let description: String
    }

    /// A commit that waits for the disk (the session's default), which makes every chunk
    /// committed before it durable too; then the bytes are counted.
    func makeDurable() throws -> String {
        let stored = try connection.with { connection in
            // A row written, or the commit would write no log to wait for.
            let touched = try connection.query("UPDATE chat_uploads SET touched = now() WHERE upload = $1 RETURNING 1",
                                               [.integer(Int64(bitPattern: upload))])
            guard touched.count == 1 else { throw Incomplete(description: "upload \(upload) is no longer in progress") }
            return try connection.query("SELECT coalesce(sum(length(bytes)), 0)::bigint FROM chat_blob_chunks WHERE blob = $1",
                                        [.text(blob)]).integer(0, 0)
        }
        guard stored == written else { throw Incomplete(description: "upload \(upload) stored \(stored) of \(written) bytes") }
        return blob
    }

    func discard() {
        _ = try? connection.with { connection in
            try connection.pipelinedTransaction([
                ("SET LOCAL synchronous_commit = off", []),
                ("DELETE FROM chat_blob_chunks WHERE blob = $1", [.text(blob)]),
                ("DELETE FROM chat_uploads WHERE upload = $1", [.integer(Int64(bitPattern: upload))]),
            ])
        }
    }

    /// Its bytes are in the database already, for the next owner.
    func handOver() {}

    func close() {}
}

/// A blob read from `chat_blob_chunks`, row by row.
final class PostgresBlob: StoredBlob, Sendable {
    private let connection: PostgresBlobStore.Connection
    private let blob: String
    private let size: Int64
    var localPath: String { "" }

    init(connection: PostgresBlobStore.Connection, blob: String, size: Int64) {
        self.connection = connection
        self.blob = blob
        self.size = size
    }

    func read(offset: Int64, length: Int) throws -> [UInt8] {
        let end = min(size, offset + Int64(length))
        guard end > offset else { return [] }
        let rows = try connection.with {
            try $0.query("""
                SELECT start, bytes FROM chat_blob_chunks WHERE blob = $1 AND start > $2 AND start < $3 ORDER BY start
                """, [.text(blob), .integer(offset - Int64(PostgresBlobStore.rowBytes)), .integer(end)])
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(end - offset))
        for row in 0..<rows.count {
            let start = rows.integer(row, 0)
            let chunk = rows.bytes(row, 1)
            let from = max(offset, start), to = min(end, start + Int64(chunk.count))
            guard from < to, Int64(bytes.count) == from - offset else { continue }
            bytes.append(contentsOf: chunk[Int(from - start)..<Int(to - start)])
        }
        guard Int64(bytes.count) == end - offset else {
            throw PostgresUpload.Incomplete(description: "blob \(blob) has \(bytes.count) of the \(end - offset) bytes at \(offset)")
        }
        return bytes
    }

    func close() {}
}
