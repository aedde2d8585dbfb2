import ChatRuntime
import ChatTestSupport
import Foundation
import Testing

/// The operator's scaling path: `storage.endpoints` edited in the config file and the system
/// reloaded, 2 -> 4 -> 1 -> 3 workers, while users keep sending. The supervisor writes a new
/// partition map, starts or retires workers, and partitions move while the system serves: no
/// client disconnected, every text answered `ok` and in its pair's history once, in order.
@Suite(.serialized) struct StorageScalingTests {
    @Test func workersAddedAndRemovedWhileTextsFlow() throws {
        let config = "log_level = \"info\"\n"
        let system = try ChatSystem(config: config, storageWorkers: 4, configuredStorageWorkers: 2)
        defer { system.stop(); system.removeData() }
        var texts = TextRounds(try (0..<8).map { _ in try system.signedInUser() })
        func storageWorkers() -> [Int] { (0..<4).filter { system.childPID("storage", index: $0) != nil } }

        try texts.send()
        for (step, count) in [4, 1, 3].enumerated() {
            try system.rewriteConfig(config + LocalPorts.storageConfig(Array(system.storageEndpoints.prefix(count))))
            kill(system.supervisor.processIdentifier, SIGHUP)
            for _ in 0..<3 { try texts.send() }
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
    }
}
