@testable import ChatStorage
import ChatTestSupport
import Foundation
import Postgres
import Testing

/// A partition's file bytes, in each store: a folder (the embedded default) and PostgreSQL
/// (a throwaway server): uploads written in pieces, made durable, read back at any offset,
/// resumed after a hand-over, discarded.
@Suite struct BlobStoreTests {
    enum Backend: CaseIterable { case folder, postgres }

    static let postgres = Result { try PostgresServer() }
    /// One database for the suite, with the storage schema; each test its own partition.
    static let database = Result { () throws -> String in
        let url = try postgres.get().newDatabase()
        try PostgresPartitionStore.prepare(try PostgresConnection(url: url), partitions: 1_000_000_000)
        return url
    }

    private let folder = FileManager.default.temporaryDirectory.appendingPathComponent("blob-store-\(UUID())").path

    private func withStore(_ backend: Backend, _ body: (any BlobStore) throws -> Void) throws {
        switch backend {
        case .folder:
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try body(try BlobFolder(root: folder, partition: 0))
        case .postgres:
            try body(PostgresBlobStore(connection: try .init(url: try Self.database.get()), partition: Int.random(in: 0..<1_000_000_000)))
        }
    }

    private static func bytes(_ count: Int, seed: UInt8 = 0) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
    }

    @Test(arguments: Backend.allCases) func anUploadInPiecesReadsBackAtAnyOffset(_ backend: Backend) throws {
        try withStore(backend) { store in
            // Pieces smaller and larger than PostgreSQL's rows (split into rows of 1 MiB).
            let pieces = [Self.bytes(1000, seed: 1), Self.bytes(PostgresBlobStore.rowBytes + 5000, seed: 2), Self.bytes(3, seed: 3)]
            let whole = pieces.flatMap { $0 }
            let upload = try store.createUpload(id: UInt64.random(in: 1...(1 << 48)))
            for piece in pieces { try upload.append(piece, writeBack: false) }
            let blob = try upload.makeDurable()
            let stored = try store.openBlob(blob, size: Int64(whole.count))
            defer { stored.close() }
            #expect(try stored.read(offset: 0, length: whole.count) == whole)
            for (offset, length) in [(0, 10), (995, 10), (1000, PostgresBlobStore.rowBytes), (PostgresBlobStore.rowBytes + 990, 50), (whole.count - 2, 10)] {
                let expected = Array(whole[offset..<min(whole.count, offset + length)])
                #expect(try stored.read(offset: Int64(offset), length: length) == expected, "\(length) at \(offset)")
            }
            #expect(try stored.read(offset: Int64(whole.count), length: 10) == [])
            #expect(stored.localPath.isEmpty == (backend == .postgres))
        }
    }

    /// Handed over with more written than its gateway saw confirmed: the next owner carries on
    /// from the confirmed bytes, and the rest is written again.
    @Test(arguments: Backend.allCases) func aHandedOverUploadResumesFromTheConfirmedBytes(_ backend: Backend) throws {
        try withStore(backend) { store in
            let id = UInt64.random(in: 1...(1 << 48))
            let whole = Self.bytes(5000, seed: 9)
            let upload = try store.createUpload(id: id)
            try upload.append(Array(whole[0..<3000]), writeBack: false)
            try upload.append(Array(whole[3000..<4000]), writeBack: false)
            upload.handOver()
            // Confirmed: 2500 bytes, in the middle of the first piece.
            let resumed = try store.resumeUpload(id: id, received: 2500)
            try resumed.append(Array(whole[2500...]), writeBack: true)
            let blob = try resumed.makeDurable()
            #expect(try store.openBlob(blob, size: 5000).read(offset: 0, length: 5000) == whole)
        }
    }

    @Test(arguments: Backend.allCases) func aDiscardedUploadLeavesNothingToResume(_ backend: Backend) throws {
        try withStore(backend) { store in
            let id = UInt64.random(in: 1...(1 << 48))
            let upload = try store.createUpload(id: id)
            try upload.append([1, 2, 3], writeBack: false)
            upload.discard()
            #expect(throws: (any Error).self) { _ = try store.resumeUpload(id: id, received: 0) }
        }
    }

    /// In PostgreSQL an upload whose worker died stays resumable until it is abandoned.
    @Test func anAbandonedUploadIsSweptAndAStoredFileIsNot() throws {
        let url = try Self.database.get()
        let partition = Int.random(in: 0..<1_000_000_000)
        let store = PostgresBlobStore(connection: try .init(url: url), partition: partition)
        let left = try store.createUpload(id: UInt64.random(in: 1...(1 << 48)))
        try left.append([1, 2, 3], writeBack: false)
        let kept = try store.createUpload(id: UInt64.random(in: 1...(1 << 48)))
        try kept.append([4, 5], writeBack: false)
        let blob = try kept.makeDurable()
        let records = try PostgresPartitionStore(url: url, partition: partition, partitions: 1_000_000_000, prepare: false)
        _ = try records.commitFile(pair: .init("1", "2"), name: "kept", blob: blob, size: 2) { Array($0.utf8) }
        let connection = try PostgresConnection(url: url)
        func chunks() throws -> Int64 {
            try connection.query("SELECT count(*) FROM chat_blob_chunks c JOIN chat_files f USING (blob) WHERE f.partition = $1",
                                 [.integer(Int64(partition))]).integer(0, 0)
        }
        func uploads() throws -> Int64 {
            try connection.query("SELECT count(*) FROM chat_uploads WHERE partition = $1", [.integer(Int64(partition))]).integer(0, 0)
        }
        #expect(try uploads() == 1, "the stored file's upload row went with its record")
        store.removeAbandonedUploads(idleFor: 3600)
        #expect(try uploads() == 1, "a fresh upload stays")
        try connection.query("UPDATE chat_uploads SET touched = now() - interval '2 hours' WHERE partition = $1", [.integer(Int64(partition))])
        store.removeAbandonedUploads(idleFor: 3600)
        #expect(try uploads() == 0)
        #expect(try chunks() == 1, "the stored file's bytes stay")
        #expect(try store.openBlob(blob, size: 2).read(offset: 0, length: 2) == [4, 5])
    }
}
