@testable import ChatStorage
import Foundation
import Testing

/// The flock that makes one worker a partition's only owner.
@Suite struct PartitionLockTests {
    private let folder = FileManager.default.temporaryDirectory.appendingPathComponent("partition-lock-\(UUID())").path

    private func withFolder(_ body: (String) throws -> Void) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try body("\(folder)/partition-3.lock")
    }

    /// flock locks belong to the open file description: a second open of the same file fails
    /// to lock it even in this process, as a second worker's would.
    @Test func aSecondLockOnTheSameFileFailsWhileTheFirstIsHeld() throws {
        try withFolder { path in
            let first = try #require(try PartitionLock(path: path))
            #expect(try PartitionLock(path: path) == nil)
            #expect(try PartitionLock(path: path) == nil, "a failed try leaves nothing behind")
            first.release()
            let second = try #require(try PartitionLock(path: path))
            second.release()
        }
    }

    @Test func theFileIsMadeAndStaysAfterRelease() throws {
        try withFolder { path in
            #expect(!FileManager.default.fileExists(atPath: path))
            let lock = try #require(try PartitionLock(path: path))
            #expect(FileManager.default.fileExists(atPath: path))
            lock.release()
            lock.release()
            #expect(FileManager.default.fileExists(atPath: path))
        }
    }

    @Test func droppingALockLetsItGo() throws {
        try withFolder { path in
            var held = try PartitionLock(path: path)
            #expect(held != nil)
            held = nil
            #expect(try PartitionLock(path: path) != nil)
        }
    }

    /// Each partition has its own file: holding one never keeps a worker from another.
    @Test func locksOfDifferentPartitionsAreIndependent() throws {
        try withFolder { path in
            let three = try #require(try PartitionLock(path: path))
            let four = try #require(try PartitionLock(path: "\(folder)/partition-4.lock"))
            three.release()
            four.release()
        }
    }

    @Test func aMissingFolderIsAnError() throws {
        #expect(throws: PartitionLock.Failure.self) { try PartitionLock(path: "\(folder)/missing/partition-0.lock") }
    }
}
