import ChatBus
@testable import ChatStorage
import Foundation
import Testing

/// The map file a storage worker starts from once partitions have moved.
@Suite struct PartitionMapFileTests {
    private let folder = FileManager.default.temporaryDirectory.appendingPathComponent("partition-map-\(UUID())").path

    private func withFolder(_ body: (String) throws -> Void) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try body(PartitionMapFile.path(inHistoryFolder: folder))
    }

    @Test func noFileIsNoMap() throws {
        try withFolder { path in
            let map = try PartitionMapFile.read(from: path)
            #expect(map == nil)
        }
    }

    /// A change is based on the map in force (the file's, else the initial one) and written
    /// under the lock; no change writes nothing. Changes from several threads at once each
    /// see the one before: none is lost.
    @Test func updatesAreBasedOnTheMapInForceAndNoneIsLost() throws {
        try withFolder { path in
            let initial = PartitionMap.initial(partitions: 16, workers: ["tcp://127.0.0.1:7910", "tcp://127.0.0.1:7911"])
            let unchanged = try PartitionMapFile.update(at: path, initial: { initial }) { _ in nil }
            #expect(unchanged.before == initial && unchanged.written == nil)
            #expect(try PartitionMapFile.read(from: path) == nil)
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                _ = try? PartitionMapFile.update(at: path, initial: { initial }) { try $0.moving(3, to: $0.workers[1 - $0.owner(ofPartition: 3)]) }
            }
            let final = try #require(try PartitionMapFile.read(from: path))
            #expect(final.epoch == 9, "eight moves, each on the one before")
            #expect(final.owner(ofPartition: 3) == 1, "moved an even number of times from worker 1")
        }
    }

    @Test func aWrittenMapReadsBack() throws {
        try withFolder { path in
            let map = PartitionMap.initial(partitions: 16, workers: ["tcp://127.0.0.1:7910", "tcp://127.0.0.1:7911"])
                .rebalanced(to: ["tcp://127.0.0.1:7911", "tcp://127.0.0.1:7912", "tcp://127.0.0.1:7913"])
            try PartitionMapFile.write(map, to: path)
            #expect(try PartitionMapFile.read(from: path) == map)
            let newer = map.rebalanced(to: ["tcp://127.0.0.1:7910"])
            try PartitionMapFile.write(newer, to: path)
            #expect(try PartitionMapFile.read(from: path) == newer)
            #expect(!FileManager.default.fileExists(atPath: "\(path).new"))
        }
    }

    @Test func theFormatIsPlainJSON() throws {
        try withFolder { path in
            try Data(#"{"epoch": 7, "workers": ["tcp://a:1", "tcp://b:2"], "owners": [1, 1, 0]}"#.utf8).write(to: URL(fileURLWithPath: path))
            #expect(try PartitionMapFile.read(from: path) == PartitionMap(epoch: 7, workers: ["tcp://a:1", "tcp://b:2"], owners: [1, 1, 0]))
        }
    }

    @Test(arguments: [
        "", "not json", #"{"epoch": 2, "workers": ["tcp://a:1"]}"#, #"{"epoch": -1, "workers": ["tcp://a:1"], "owners": [0]}"#,
        #"{"epoch": 2, "workers": ["tcp://a:1"], "owners": [0, 1]}"#, #"{"epoch": 2, "workers": [], "owners": []}"#,
    ])
    func aBrokenFileIsRefusedNotGuessed(_ text: String) throws {
        try withFolder { path in
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            #expect(throws: PartitionMapFile.Unreadable.self) { try PartitionMapFile.read(from: path) }
        }
    }
}
