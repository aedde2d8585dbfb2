@testable import ChatStorage
import Foundation
import Testing

/// A partition's files: an upload handed over in a move found again by the partition's next
/// owner, and what each takeover clears away.
@Suite struct BlobFolderTests {
    private let root = FileManager.default.temporaryDirectory.appendingPathComponent("blob-folder-\(UUID())").path

    private func withFolder(_ body: (BlobFolder) throws -> Void) throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        try body(try BlobFolder(root: root, partition: 3))
    }

    private func contents(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }
    private func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    private func age(_ path: String, seconds: TimeInterval) throws {
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -seconds)], ofItemAtPath: path)
    }

    /// The new owner carries on after the bytes the gateway had confirmed: anything the old one
    /// wrote past them is cut, and the next bytes follow them. Only a file handed over is found.
    @Test func anUploadHandedOverIsReopenedAfterItsConfirmedBytes() throws {
        try withFolder { folder in
            let (first, path) = try folder.createTemporary(ofUpload: 0xabc)
            #expect(path.hasSuffix("/partition-3/tmp/upload-abc"))
            try BlobFolder.append([1, 2, 3, 4, 5], to: first)
            #expect(throws: BlobFolder.IOError.self, "not handed over") { try folder.reopenTemporary(ofUpload: 0xabc, received: 3) }
            BlobFolder.handOver(descriptor: first, temporary: path)
            #expect(exists(path + BlobFolder.handedOverSuffix))
            #expect(throws: BlobFolder.IOError.self, "fewer bytes than confirmed") { try folder.reopenTemporary(ofUpload: 0xabc, received: 6) }
            let (second, again) = try folder.reopenTemporary(ofUpload: 0xabc, received: 3)
            #expect(again == path)
            try BlobFolder.append([9], to: second)
            close(second)
            #expect(try contents(path) == [1, 2, 3, 9])
            #expect(!exists(path + BlobFolder.handedOverSuffix), "this worker's upload now")
        }
    }

    /// A takeover removes blobs no record names and the uploads a crash cut short, but keeps an
    /// upload handed over while it is fresh; the sweep removes it once abandoned.
    @Test func aTakeoverKeepsFreshUploadsHandedOverAndTheSweepRemovesAbandonedOnes() throws {
        try withFolder { folder in
            let (cut, cutPath) = try folder.createTemporary(ofUpload: 1)
            close(cut)
            let (fresh, freshPath) = try folder.createTemporary(ofUpload: 2)
            BlobFolder.handOver(descriptor: fresh, temporary: freshPath)
            let (old, oldPath) = try folder.createTemporary(ofUpload: 3)
            BlobFolder.handOver(descriptor: old, temporary: oldPath)
            try age(oldPath + BlobFolder.handedOverSuffix, seconds: 600)
            _ = FileManager.default.createFile(atPath: folder.blobPath("kept"), contents: Data([1]))
            _ = FileManager.default.createFile(atPath: folder.blobPath("orphan"), contents: Data([1]))

            #expect(folder.removeLeftovers(keeping: ["kept"], handedOverIdleFor: 300) == 3)
            #expect(!exists(cutPath))
            #expect(exists(freshPath + BlobFolder.handedOverSuffix))
            #expect(!exists(oldPath + BlobFolder.handedOverSuffix))
            #expect(exists(folder.blobPath("kept")))
            #expect(!exists(folder.blobPath("orphan")))

            folder.removeAbandonedUploads(idleFor: 300)
            #expect(exists(freshPath + BlobFolder.handedOverSuffix), "still fresh")
            try age(freshPath + BlobFolder.handedOverSuffix, seconds: 600)
            let (active, activePath) = try folder.createTemporary(ofUpload: 4)
            close(active)
            try age(activePath, seconds: 600)
            folder.removeAbandonedUploads(idleFor: 300)
            #expect(!exists(freshPath + BlobFolder.handedOverSuffix))
            #expect(exists(activePath), "an upload of this worker's own is swept by its idle time, not here")
        }
    }
}
