import ChatBus
import ChatTestSupport
import Foundation
import Testing

/// Partitions moved between running storage workers: a new partition map is written to the
/// data folder and the system reloaded, while users keep sending. The losing worker lets each
/// partition go after its last commit, the gaining one takes its lock, requests on the way wait
/// or are sent on: every text is answered `ok` and is in its pair's history once, in order.
@Suite(.serialized) struct LivePartitionMoveTests {
    /// `owners` for 16 partitions of the system's two workers, written as epoch `epoch`.
    private func writeMap(_ system: ChatSystem, epoch: Int, owners: [Int]) throws {
        let workers = system.storageEndpoints.map { "\"\($0)\"" }.joined(separator: ", ")
        let json = #"{"epoch": \#(epoch), "workers": [\#(workers)], "owners": \#(owners)}"#
        let history = system.dataDirectory.appendingPathComponent("history")
        try Data(json.utf8).write(to: history.appendingPathComponent("partition-map.new"))
        // Replaced whole, as the map's writer does: a worker never reads half a file.
        #expect(rename(history.appendingPathComponent("partition-map.new").path, history.appendingPathComponent("partition-map").path) == 0)
    }

    private func reloadedLines(_ system: ChatSystem, epoch: Int) -> Int {
        system.log.split(separator: "\n").filter { $0.contains("partition map reloaded") && $0.contains("storage.map_epoch=\(epoch)") }.count
    }

    @Test func textsKeepFlowingWhilePartitionsMoveBetweenRunningWorkers() throws {
        let system = try ChatSystem()
        defer { system.stop(); system.removeData() }
        var texts = TextRounds(try (0..<8).map { _ in try system.signedInUser() })
        try texts.send()
        // Epoch 2: partitions 0-7 to worker 1, 8-15 to worker 0 (under p % 2 half of each moves).
        try writeMap(system, epoch: 2, owners: (0..<16).map { $0 < 8 ? 1 : 0 })
        kill(system.supervisor.processIdentifier, SIGHUP)
        for _ in 0..<3 { try texts.send() }
        try waitUntil("both workers on epoch 2; log:\n\(system.log)", timeout: .seconds(10)) { reloadedLines(system, epoch: 2) == 2 }
        try texts.send()
        // Epoch 3: back to p % 2, every moved partition moving again.
        try writeMap(system, epoch: 3, owners: (0..<16).map { $0 % 2 })
        kill(system.supervisor.processIdentifier, SIGHUP)
        for _ in 0..<3 { try texts.send() }
        try waitUntil("both workers on epoch 3; log:\n\(system.log)", timeout: .seconds(10)) { reloadedLines(system, epoch: 3) == 2 }
        try texts.send()

        #expect(system.log.contains("partition let go"), "no partition moved")
        #expect(!system.log.contains("does not own"), "a request was refused during a move")
        try texts.expectEachOnceInOrder()
    }

    /// Uploads half sent when their partition moves: the old owner hands each over, the
    /// gateway resumes it at the new owner after the bytes confirmed, and it completes `ok`
    /// with every byte; twice over, the second move taking many partitions back.
    @Test func uploadsInProgressCompleteThroughMoves() throws {
        let system = try ChatSystem()
        defer { system.stop(); system.removeData() }
        var uploads = SplitUploads(try (0..<8).map { _ in try system.signedInUser() })
        for (epoch, owners) in [(2, (0..<16).map { $0 < 8 ? 1 : 0 }), (3, (0..<16).map { $0 % 2 })] {
            try uploads.begin()
            try writeMap(system, epoch: epoch, owners: owners)
            kill(system.supervisor.processIdentifier, SIGHUP)
            try waitUntil("both workers on epoch \(epoch); log:\n\(system.log)", timeout: .seconds(10)) { reloadedLines(system, epoch: epoch) == 2 }
            try uploads.finish()
        }
        #expect(system.log.contains("upload handed over"), "no upload was under way on a moving partition")
        #expect(system.log.contains("upload resumed"))
        #expect(!system.log.contains("upload abandoned"))
        try uploads.expectEachFetchable()
    }

    /// The operator's command: `chatd partitions --move` writes the map with one partition
    /// moved, and the reload moves it while texts flow; `chatd partitions` shows the map.
    @Test func thePartitionsCommandMovesOnePartitionOnReload() throws {
        let system = try ChatSystem()
        defer { system.stop(); system.removeData() }
        var texts = TextRounds(try (0..<6).map { _ in try system.signedInUser() })
        try texts.send()
        // Partition 4 is worker 0's (4 % 2); it goes to worker 1.
        let move = try StatusCommandTests.chatd(["partitions", "--move", "4", "--to", system.storageEndpoints[1]] + system.sharedArguments)
        #expect(move.status == 0, "\(move.standardError)")
        #expect(move.standardOutput.contains("epoch 2\n"))
        #expect(move.standardOutput.contains("\(system.storageEndpoints[1]): 1 3 4 5 7 9 11 13 15\n"), "\(move.standardOutput)")
        let refused = try StatusCommandTests.chatd(["partitions", "--move", "4", "--to", "tcp://127.0.0.1:1"] + system.sharedArguments)
        #expect(refused.status != 0 && refused.standardError.contains("not a storage worker"), "\(refused.standardError)")

        kill(system.supervisor.processIdentifier, SIGHUP)
        for _ in 0..<2 { try texts.send() }
        try waitUntil("partition 4 served by storage-1", timeout: .seconds(10), interval: .milliseconds(200)) {
            let processes = try StatusCommandTests.processes(of: system)
            return processes["storage-1"]?["partitions"] as? [Int] == [1, 3, 4, 5, 7, 9, 11, 13, 15]
                && processes["storage-0"]?["partitions"] as? [Int] == [0, 2, 6, 8, 10, 12, 14]
        }
        try texts.send()
        let shown = try StatusCommandTests.chatd(["partitions"] + system.sharedArguments)
        #expect(shown.standardOutput.hasPrefix("epoch 2\n"))
        try texts.expectEachOnceInOrder()
    }

    /// A partition moved from another machine, its map here before its files (the
    /// operator's steps out of order): the worker waits for the database instead of creating
    /// it empty, and serves the partition, history and all, once it is copied in.
    @Test func aPartitionWhoseDatabaseIsNotCopiedYetIsWaitedForNotCreated() throws {
        let first = try ChatSystem()
        let partitioning = Partitioning(partitionCount: 16)
        let (alice, a) = try first.signedInUser()
        // Not the partition of the readiness probe's pair, which the system must serve to start.
        var (bob, b) = try first.signedInUser()
        while partitioning.partition(of: PairKey(a, b)) == partitioning.partition(of: PairKey("000000", "000000")) {
            (bob, b) = try first.signedInUser()
        }
        #expect(try alice.ask("\(a) to \(b) 202004131702 text\nbefore the move") == "ok")
        bob.abort()
        alice.abort()
        #expect(first.stop())
        let partition = partitioning.partition(of: PairKey(a, b))
        let history = first.dataDirectory.appendingPathComponent("history")
        let database = history.appendingPathComponent("partition-\(partition).sqlite")
        let aside = first.dataDirectory.appendingPathComponent("elsewhere.sqlite")
        #expect(rename(database.path, aside.path) == 0)

        let system = try ChatSystem(dataDirectory: first.dataDirectory) { endpoints, _ in
            let workers = endpoints.map { "\"\($0)\"" }.joined(separator: ", ")
            let json = #"{"epoch": 2, "workers": [\#(workers)], "owners": \#((0..<16).map { $0 % 2 })}"#
            try Data(json.utf8).write(to: history.appendingPathComponent("partition-map"))
        }
        defer { system.stop(); system.removeData() }
        func logged(_ message: String) -> Bool {
            system.log.split(separator: "\n").contains { $0.contains(message) && $0.contains("storage.partition=\(partition) ") }
        }
        try waitUntil("the worker says the database is missing; log:\n\(system.log)", timeout: .seconds(10)) {
            logged("partition has no database in this data folder")
        }
        Thread.sleep(forTimeInterval: 0.5)
        #expect(!FileManager.default.fileExists(atPath: database.path), "created empty")

        #expect(rename(aside.path, database.path) == 0)
        try waitUntil("the partition served once copied; log:\n\(system.log)", timeout: .seconds(10)) {
            logged("partition lock taken; serving it")
        }
        let client = try TestClient(port: system.port)
        #expect(try client.ask("signin \(a) pw") == "signin successfully")
        let kept = String(decoding: try client.history(me: a, peer: b), as: UTF8.self)
        #expect(kept.contains("before the move"))
    }

    /// Clients that do not wait for each answer before sending the next (several texts in
    /// flight): during a move a later text must not be stored before an earlier one that is
    /// being sent on to the new owner.
    @Test func pipelinedTextsKeepTheirOrderThroughAMove() throws {
        let system = try ChatSystem()
        defer { system.stop(); system.removeData() }
        let users = try (0..<6).map { _ in try system.signedInUser() }
        var pairs: [(Int, Int)] = []
        for low in users.indices { for high in users.indices where high > low { pairs.append((low, high)) } }
        var sent = 0
        func sendBurst(_ count: Int) throws {
            for (low, high) in pairs {
                let (client, me) = users[low], peer = users[high].1
                for index in sent..<(sent + count) {
                    try client.sendLine("\(me) to \(peer) 202004131702 text\nseq \(index) \(me) \(peer)")
                }
            }
            for (low, high) in pairs {
                for _ in 0..<count { #expect(try users[low].0.readReply() == "ok", "\(users[low].1) to \(users[high].1)") }
            }
            sent += count
        }

        try sendBurst(10)
        try writeMap(system, epoch: 2, owners: (0..<16).map { $0 < 8 ? 1 : 0 })
        kill(system.supervisor.processIdentifier, SIGHUP)
        for _ in 0..<4 { try sendBurst(10) }
        try writeMap(system, epoch: 3, owners: (0..<16).map { $0 % 2 })
        kill(system.supervisor.processIdentifier, SIGHUP)
        for _ in 0..<4 { try sendBurst(10) }

        for (low, high) in pairs {
            let (client, me) = users[low], peer = users[high].1
            let history = String(decoding: try client.history(me: me, peer: peer), as: UTF8.self)
            let order = history.split(separator: "\n").compactMap { line -> Int? in
                guard line.hasPrefix("seq ") else { return nil }
                return Int(line.split(separator: " ")[1])
            }
            #expect(order == Array(0..<sent), "\(me)-\(peer): \(order)")
        }
    }
}
