import ChatBus
import ChatTestSupport
import Foundation
import Testing

/// Storage workers that start from a newer partition map than the gateway's: each request the
/// gateway sends by its old map to a worker that no longer owns the partition is answered with
/// the newer map, and the gateway asks the owner instead. No client sees the difference.
@Suite(.serialized) struct PartitionMapRoutingTests {
    /// Epoch 2 of a two-worker system: worker 0 keeps only partitions 0 and 5 (5 was worker
    /// 1's under `p % 2`); worker 1 takes every other one, the even ones from worker 0.
    private static let kept = [0, 5]

    private static func writeMap(endpoints: [String], dataDirectory: URL) throws {
        let history = dataDirectory.appendingPathComponent("history")
        try FileManager.default.createDirectory(at: history, withIntermediateDirectories: true)
        let owners = (0..<16).map { kept.contains($0) ? 0 : 1 }
        let workers = endpoints.map { "\"\($0)\"" }.joined(separator: ", ")
        let json = #"{"epoch": 2, "workers": [\#(workers)], "owners": \#(owners)}"#
        try Data(json.utf8).write(to: history.appendingPathComponent("partition-map"))
    }

    /// The log's lines from storage worker `index` that say `message`.
    private func lines(_ system: ChatSystem, worker index: Int, saying message: String) -> [Substring] {
        system.log.split(separator: "\n").filter { $0.contains("storage-\(index)") && $0.contains(message) }
    }

    @Test func textsHistoriesAndFilesReachTheOwnerTheNewerMapNames() throws {
        // A data folder made by a first start (every partition created by its first owner),
        // then started again with the newer map in it.
        let first = try ChatSystem()
        #expect(first.stop())
        let system = try ChatSystem(dataDirectory: first.dataDirectory, beforeStart: Self.writeMap)
        defer { system.stop(); system.removeData() }
        #expect(lines(system, worker: 0, saying: "storage ready").first?.contains("storage.partitions=[0, 5]") == true, "\(system.log)")
        #expect(lines(system, worker: 1, saying: "storage ready").first?.contains("storage.map_epoch=2") == true, "\(system.log)")

        var users = try (0..<10).map { _ in try system.signedInUser() }
        let partitioning = Partitioning(partitionCount: 16)
        var pairs: [(Int, Int)] = []
        for low in users.indices { for high in users.indices where high > low { pairs.append((low, high)) } }
        // Pairs on partitions that moved either way and on ones that did not. Uids are random:
        // users are added, each paired with all before, until such pairs are among them.
        func partitions() -> Set<Int> { Set(pairs.map { partitioning.partition(of: PairKey(users[$0].1, users[$1].1)) }) }
        func coversEveryCase() -> Bool {
            let covered = partitions()
            return covered.contains { $0 % 2 == 0 && !Self.kept.contains($0) } && covered.contains(5)
                && covered.contains { $0 % 2 == 1 && $0 != 5 }
        }
        while !coversEveryCase() && users.count < 40 {
            users.append(try system.signedInUser())
            pairs += users.indices.dropLast().map { ($0, users.count - 1) }
        }
        #expect(coversEveryCase(), "\(partitions().sorted())")

        for (low, high) in pairs {
            let (lowClient, lowUid) = users[low], (highClient, highUid) = users[high]
            try lowClient.sendLine("\(lowUid) to \(highUid) 202004131702 text\nthere \(lowUid) \(highUid)")
            #expect(try lowClient.readReply() == "ok")
            try highClient.sendLine("\(highUid) to \(lowUid) 202004131702 text\nback \(highUid) \(lowUid)")
            #expect(try highClient.readReply() == "ok")
        }
        for (low, high) in pairs {
            let (client, me) = users[low], peer = users[high].1
            let history = String(decoding: try client.history(me: me, peer: peer), as: UTF8.self)
            #expect(history.components(separatedBy: "\nthere \(me) \(peer)\n").count - 1 == 1, "\(me)-\(peer): \(history)")
            #expect(history.components(separatedBy: "\nback \(peer) \(me)\n").count - 1 == 1, "\(me)-\(peer): \(history)")
        }

        // A file each way on a partition that moved to worker 1 and on the one that moved to worker 0.
        let movedToOne = try #require(pairs.first { partitioning.partition(of: PairKey(users[$0].1, users[$1].1)) % 2 == 0
            && !Self.kept.contains(partitioning.partition(of: PairKey(users[$0].1, users[$1].1))) })
        let movedToZero = try #require(pairs.first { partitioning.partition(of: PairKey(users[$0].1, users[$1].1)) == 5 })
        for (index, (low, high)) in [movedToOne, movedToZero].enumerated() {
            let bytes = (0..<700_000).map { UInt8(truncatingIfNeeded: $0 &* (index + 3)) }
            let (sender, from) = users[low], (receiver, to) = users[high]
            #expect(try sender.upload(from: from, to: to, name: "moved-\(index).bin", bytes: bytes) == "ok")
            #expect(try receiver.download(me: to, peer: from, name: "moved-\(index).bin") == bytes)
        }

        #expect(!system.log.contains("Service unavailable"))
        #expect(!system.log.contains("to no other owner"), "\(system.log)")
        // The gateway learned the map once, from the first worker that sent a request on.
        #expect(system.log.components(separatedBy: "adopted a newer partition map").count - 1 == 1, "\(system.log)")
    }
}
