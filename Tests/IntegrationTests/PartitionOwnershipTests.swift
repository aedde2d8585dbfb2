import ChatBus
import ChatRuntime
import ChatTestSupport
import Foundation
import Testing

/// A partition has one owner, whatever an operator starts: a storage worker serves only the
/// partitions whose lock it holds, and takes one whose holder stopped.
@Suite(.serialized) struct PartitionOwnershipTests {
    /// The system's two workers own every partition; a hand-started third of a three-endpoint
    /// list is assigned these (p % 3 == 2), all held by the two.
    private static let contested = PartitionMap.initial(partitions: 16, workers: ["a", "b", "c"]).partitions(ownedBy: 2)
    private static let warning = "partition locked by another worker; not serving it"
    private static let taken = "partition lock taken; serving it"

    /// A new user signed in whose pair with `uid` lands on a partition of `partitions`.
    private func peer(of uid: String, on partitions: [Int], in system: ChatSystem) throws -> (TestClient, String) {
        let partitioning = Partitioning(partitionCount: 16)
        var candidate = TestUIDs.make()
        while !partitions.contains(partitioning.partition(of: PairKey(uid, candidate))) { candidate = TestUIDs.make() }
        let client = try TestClient(port: system.port)
        try client.signUpAndIn(candidate)
        return (client, candidate)
    }

    /// The log's lines from storage worker `index` that say `message`.
    private func lines(_ system: ChatSystem, worker index: Int, saying message: String) -> [Substring] {
        system.log.split(separator: "\n").filter { $0.contains("storage-\(index)") && $0.contains(message) }
    }

    private func partitionsNamed(in lines: [Substring]) -> Set<Int> {
        Set(lines.compactMap { line in
            line.firstRange(of: "storage.partition=").flatMap { range in Int(line[range.upperBound...].prefix { $0.isNumber }) }
        })
    }

    /// Sends a text and returns its reply, read past the pushes of the peer's texts.
    private func text(from client: TestClient, _ sender: String, to peer: String, _ text: String) throws -> String {
        try client.sendLine("\(sender) to \(peer) 202004131702 text\n\(text)")
        return try client.readReply()
    }

    /// The number of times `text` is in the pair's history, read by `client` as `me`.
    private func occurrences(of text: String, client: TestClient, me: String, peer: String) throws -> Int {
        let history = String(decoding: try client.history(me: me, peer: peer), as: UTF8.self)
        return history.components(separatedBy: "\n\(text)\n").count - 1
    }

    @Test func aConflictingWorkerServesNothingItCannotLockAndDeletesNothing() throws {
        let system = try ChatSystem()
        defer { system.stop(); system.removeData() }
        let alice = try TestClient(port: system.port), a = TestUIDs.make()
        try alice.signUpAndIn(a)
        let peers = try (0..<3).map { _ in try peer(of: a, on: Self.contested, in: system) }

        // An upload in progress, and what start-up cleanup would take for a crash's leftovers,
        // in partitions the system's workers hold.
        let upload = [UInt8]((0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try alice.sendLine("\(a) to \(peers[0].1) 202004131702 file \(upload.count)\nkept.bin")
        #expect(try alice.readReply() == "ok")
        try alice.send(Array(upload[..<1_000_000]))
        let files = system.dataDirectory.appendingPathComponent("files")
        var planted: [String] = []
        for partition in Self.contested {
            let folder = files.appendingPathComponent("partition-\(partition)")
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("tmp"), withIntermediateDirectories: true)
            for name in ["tmp/0123456789abcdef01234567", "00112233445566778899aabbccddeeff"] {
                let path = folder.appendingPathComponent(name).path
                #expect(FileManager.default.createFile(atPath: path, contents: Data("left".utf8)))
                planted.append(path)
            }
        }

        let endpoints = system.storageEndpoints + ["tcp://127.0.0.1:\(try LocalPorts.free(1)[0])"]
        let extra = try system.startExtraStorageWorker(index: 2, endpoints: endpoints)
        defer { extra.stop(with: SIGKILL) }
        try waitUntil("the hand-started worker to be ready; log:\n\(system.log)", timeout: .seconds(30)) {
            guard extra.isRunning else { throw ChatSystem.Failure(description: "it exited; log:\n\(system.log)") }
            return !lines(system, worker: 2, saying: "storage ready").isEmpty
        }
        // Several retries later, still each partition's warning once.
        Thread.sleep(forTimeInterval: 1)
        let warnings = lines(system, worker: 2, saying: Self.warning)
        #expect(warnings.count == Self.contested.count, "\(warnings)")
        #expect(partitionsNamed(in: warnings) == Set(Self.contested))
        #expect(lines(system, worker: 2, saying: "storage ready").first?.contains("storage.partitions=[]") == true)
        #expect(lines(system, worker: 2, saying: Self.taken).isEmpty)
        #expect(lines(system, worker: 2, saying: "removed files").isEmpty)
        for path in planted { #expect(FileManager.default.fileExists(atPath: path), "\(path)") }

        try alice.send(Array(upload[1_000_000...]))
        #expect(try alice.readReply(timeout: 30) == "ok")
        for (index, (client, uid)) in peers.enumerated() {
            for round in 0..<3 {
                #expect(try text(from: alice, a, to: uid, "contested \(index) \(round)") == "ok")
                #expect(try text(from: client, uid, to: a, "back \(index) \(round)") == "ok")
            }
        }
        #expect(try alice.download(me: a, peer: peers[0].1, name: "kept.bin") == upload)
        for (index, (client, uid)) in peers.enumerated() {
            for round in 0..<3 {
                #expect(try occurrences(of: "contested \(index) \(round)", client: client, me: uid, peer: a) == 1)
                #expect(try occurrences(of: "back \(index) \(round)", client: client, me: uid, peer: a) == 1)
            }
        }
        #expect(extra.isRunning, "it waits for the locks, serving nothing")
        #expect(extra.stop(), "it stops as usual")
    }

    /// A worker waiting for a lock takes the partition within a second of its holder exiting,
    /// whether the holder crashed (the kernel lets the lock go) or stopped (it lets it go after
    /// its last commit).
    @Test func aWaitingWorkerTakesThePartitionWhenItsHolderExits() throws {
        let system = try ChatSystem()
        defer { system.stop(); system.removeData() }
        let alice = try TestClient(port: system.port), a = TestUIDs.make()
        try alice.signUpAndIn(a)
        // Worker 1 of the system's two holds the odd partitions; 5 and 11 are contested.
        let contestedOfWorker1 = Self.contested.filter { $0 % 2 == 1 }
        let (bob, b) = try peer(of: a, on: contestedOfWorker1, in: system)
        #expect(try text(from: alice, a, to: b, "before") == "ok")

        let endpoints = system.storageEndpoints + ["tcp://127.0.0.1:\(try LocalPorts.free(1)[0])"]
        let extra = try system.startExtraStorageWorker(index: 2, endpoints: endpoints)
        defer { extra.stop(with: SIGKILL) }
        try waitUntil("the hand-started worker to be ready; log:\n\(system.log)", timeout: .seconds(30)) {
            !lines(system, worker: 2, saying: "storage ready").isEmpty
        }

        // The supervisor held still, so the hand-started worker is the one waiting when worker 1 dies.
        let supervisor = system.supervisor.processIdentifier
        kill(supervisor, SIGSTOP)
        var resumed = false
        defer { if !resumed { kill(supervisor, SIGCONT) } }
        let worker1 = try #require(system.childPID("storage", index: 1))
        kill(worker1, SIGKILL)
        try waitUntil("worker 1 to exit", timeout: .seconds(10)) { ChatSystem.hasExited(worker1) }
        try waitUntil("the hand-started worker to take 5 and 11; log:\n\(system.log)", timeout: .seconds(1)) {
            partitionsNamed(in: lines(system, worker: 2, saying: Self.taken)) == Set(contestedOfWorker1)
        }

        // Restarted, worker 1 finds those two locked and waits in turn.
        kill(supervisor, SIGCONT)
        resumed = true
        try waitUntil("the new worker 1 to wait for 5 and 11; log:\n\(system.log)", timeout: .seconds(20)) {
            partitionsNamed(in: lines(system, worker: 1, saying: Self.warning)) == Set(contestedOfWorker1)
        }
        #expect(extra.stop(), "a graceful stop: last commit, close, unlock")
        try waitUntil("worker 1 to take 5 and 11 back; log:\n\(system.log)", timeout: .seconds(1)) {
            partitionsNamed(in: lines(system, worker: 1, saying: Self.taken)) == Set(contestedOfWorker1)
        }
        #expect(try text(from: alice, a, to: b, "after") == "ok")
        #expect(try occurrences(of: "before", client: bob, me: b, peer: a) == 1)
        #expect(try occurrences(of: "after", client: bob, me: b, peer: a) == 1)
    }
}
