import ChatBus
import ChatCrypto
import ChatRuntime
import ChatTestSupport
import Foundation
import Testing

/// The operator's scaling path: `storage.endpoints` edited in the config file and the system
/// reloaded, 2 -> 4 -> 1 -> 3 workers, while users keep sending. The supervisor writes a new
/// partition map, starts or retires workers, and partitions move while the system serves: no
/// client disconnected, every text answered `ok` and in its pair's history once, in order,
/// every upload under way across a step completed and fetchable with its SHA-256.
@Suite(.serialized) struct StorageScalingTests {
    @Test func workersAddedAndRemovedWhileTextsFlow() throws {
        let config = "log_level = \"info\"\n"
        let system = try ChatSystem(config: config, storageWorkers: 4, configuredStorageWorkers: 2)
        defer { system.stop(); system.removeData() }
        var texts = TextRounds(try (0..<8).map { _ in try system.signedInUser() })
        var uploads = SplitUploads(try (0..<6).map { _ in try system.signedInUser() })
        func storageWorkers() -> [Int] { (0..<4).filter { system.childPID("storage", index: $0) != nil } }

        try texts.send()
        for (step, count) in [4, 1, 3].enumerated() {
            try uploads.begin()
            try system.rewriteConfig(config + LocalPorts.storageConfig(Array(system.storageEndpoints.prefix(count))))
            kill(system.supervisor.processIdentifier, SIGHUP)
            for _ in 0..<3 { try texts.send() }
            try uploads.finish()
            try waitUntil("\(count) storage workers after step \(step + 1); log:\n\(system.log)", timeout: .seconds(20)) {
                storageWorkers() == Array(0..<count)
            }
            try texts.send()
        }

        // Status shows the map: three workers on epoch 4 (1, then one per step), every
        // partition held by exactly one, none waiting.
        var processes: [String: [String: Any]] = [:]
        try waitUntil("the final map in status: \(processes)", timeout: .seconds(15), interval: .milliseconds(200)) {
            processes = try StatusCommandTests.processes(of: system)
            let workers = (0..<3).compactMap { processes["storage-\($0)"] }
            let held = workers.flatMap { $0["partitions"] as? [Int] ?? [] }
            return workers.count == 3 && workers.allSatisfy { $0["map_epoch"] as? Int == 4 && ($0["partitions_waiting"] as? [Int] ?? []).isEmpty }
                && held.sorted() == Array(0..<16)
        }
        #expect(processes["storage-3"] == nil)
        #expect(!system.log.contains("child exited"), "a planned start or stop was taken for a crash")
        #expect(!system.log.contains("does not own"), "a request was refused during a move")
        try texts.expectEachOnceInOrder()
        try uploads.expectEachFetchable()
    }

    /// A download streamed from storage (`send_local_files = false`, as for a gateway on
    /// another machine) whose worker is removed while its client reads slowly: the worker
    /// exits, and the gateway opens the file again at the partition's new owner; the client
    /// gets every byte.
    @Test func aDownloadUnderWayCompletesWhenItsWorkerIsRemoved() throws {
        let config = "log_level = \"info\"\ngateway.send_local_files = false\n"
        let system = try ChatSystem(config: config, storageWorkers: 2, configuredStorageWorkers: 2)
        defer { system.stop(); system.removeData() }
        // A pair in a partition of worker 1 (p % 2 == 1 at the start), which is removed.
        let partitioning = Partitioning(partitionCount: 16)
        let (alice, a) = try system.signedInUser()
        var (bob, b) = try system.signedInUser()
        while partitioning.partition(of: PairKey(a, b)) % 2 == 0 { (bob, b) = try system.signedInUser() }
        defer { bob.abort() }
        let bytes = randomBytes(24 << 20)
        #expect(try alice.upload(from: a, to: b, name: "big.bin", bytes: bytes) == "ok")

        // Read by its sender, who has no push of it waiting before the offer.
        #expect(try alice.ask("\(a) history \(b) filename big.bin") == "server_data_size\(bytes.count)")
        try alice.sendLine("ok")
        var received = try alice.read(count: 1 << 20)
        try system.rewriteConfig(config + LocalPorts.storageConfig([system.storageEndpoints[0]]))
        kill(system.supervisor.processIdentifier, SIGHUP)
        try waitUntil("storage-1 retired; log:\n\(system.log)", timeout: .seconds(20)) { system.childPID("storage", index: 1) == nil }
        received += try alice.read(count: bytes.count - received.count, timeout: 60)
        #expect(SHA256Digest.hash(received) == SHA256Digest.hash(bytes))
        #expect(system.log.contains("download opened again at its partition's new owner"))
    }
}
