import ChatBenchmark
import ChatRuntime
import ChatTestSupport
import Postgres
import Foundation
import Testing

/// The whole system with its accounts and history in PostgreSQL (`auth.backend` and
/// `storage.backend = "postgres"`), a throwaway server the test starts: what was acknowledged
/// survives killed workers, and lives in the database, not in the data folder.
@Suite(.serialized) struct PostgresBackendTests {
    @Test func accountsAndHistoryLiveInPostgreSQL() throws {
        let server = try PostgresServer()
        let url = try server.newDatabase()
        let settings = SystemUnderTest.postgresSettings(url: url)
        let alice = TestUIDs.make(), bob = TestUIDs.make()
        var sent: [String] = []
        do {
            let system = try ChatSystem(settings: settings)
            defer { system.stop(); system.removeData() }
            let a = try TestClient(port: system.port), b = try TestClient(port: system.port)
            try a.signUpAndIn(alice)
            try b.signUpAndIn(bob)
            #expect(try a.ask("\(alice) to \(bob) addFriend") == "ok")
            // A file's bytes go into the database too, not the data folder.
            #expect(try a.upload(from: alice, to: bob, name: "kept.bin", bytes: Self.fileBytes) == "ok")
            #expect(try b.readLine() == "\(alice) to \(bob) addFriend")
            #expect(try b.readLine() == "\(alice) to \(bob) 202004131702 file \(Self.fileBytes.count)")
            #expect(try b.readLine() == "kept.bin")
            #expect(try b.download(me: bob, peer: alice, name: "kept.bin") == Self.fileBytes)
            let blobs = FileManager.default.enumerator(atPath: system.dataDirectory.appendingPathComponent("files").path)?
                .compactMap { $0 as? String }.filter { !$0.hasSuffix("tmp") && $0.split(separator: "/").count == 2 } ?? []
            #expect(blobs.isEmpty, "no blob in the data folder: \(blobs)")
            for round in 0..<10 {
                let text = "text \(round) kept in PostgreSQL"
                #expect(try a.ask("\(alice) to \(bob) 202612070600 text\n\(text)") == "ok")
                sent.append(text)
            }
            // Storage killed mid-life: what it acknowledged is committed.
            _ = try system.killAndAwaitRestart("storage", index: 0)
            _ = try system.killAndAwaitRestart("storage", index: 1)
            try waitUntil("a text stored after the restarts", timeout: .seconds(30)) {
                (try? a.ask("\(alice) to \(bob) 202612070601 text\nafter the restarts")) == "ok"
            }
            sent.append("after the restarts")
        }
        // A new system, with a new, empty data folder: the same accounts, friends and history.
        let again = try ChatSystem(settings: settings)
        defer { again.stop(); again.removeData() }
        let a = try TestClient(port: again.port)
        #expect(try a.ask("signin \(alice) pw") == "signin successfully")
        #expect(try a.ask("\(alice) friends").contains(bob))
        let history = String(decoding: try a.history(me: alice, peer: bob), as: UTF8.self)
        for text in sent { #expect(history.contains("\n\(text)\n"), "\(text) in the history:\n\(history)") }
        #expect(history.components(separatedBy: "\n").filter { $0.hasPrefix("text ") }.count == 10, "each once:\n\(history)")
        #expect(try a.download(me: alice, peer: bob, name: "kept.bin") == Self.fileBytes, "the file, from the database")
    }

    /// Larger than a row of bytes in the database (1 MiB), not a multiple of it.
    static let fileBytes = (0..<(3 << 20) + 12_345).map { UInt8(truncatingIfNeeded: $0 &* 7) }

    /// A storage worker frozen (as a machine that stops answering, or cut off, would be): its
    /// leases run out and the other worker takes its partitions over, users chatting all along;
    /// once it wakes it cannot write (its lease is gone), and every text acknowledged is in its
    /// history once.
    @Test func aFrozenStorageWorkersPartitionsAreTakenOver() throws {
        let server = try PostgresServer()
        let url = try server.newDatabase()
        let system = try ChatSystem(settings: ["storage.backend=\"postgres\"", "storage.postgres_url=\"\(url)\"",
                                               "storage.lease_seconds=2", "storage.partitions=8"])
        defer { system.stop(); system.removeData() }
        var texts = UnsureTextRounds(try (0..<5).map { _ in try system.signedInUser() })
        func servedBy0() -> Int {
            system.log.split(separator: "\n").filter { $0.contains("chatd.storage-0:") && $0.hasSuffix("lease taken; serving it") }.count
        }
        try waitUntil("every pair's text stored", timeout: .seconds(30)) { (try? texts.send(timeout: 20)) == true }
        let frozen = try #require(system.childPID("storage", index: 0))
        kill(frozen, SIGSTOP)
        defer { kill(frozen, SIGCONT) }
        // Some texts fail (`Service unavailable`) while the leases run out; then every pair is
        // served by the worker left.
        try waitUntil("a whole round stored with storage-0 frozen", timeout: .seconds(60), interval: .milliseconds(1)) {
            try texts.send(timeout: 20)
        }
        // storage-1 holds every partition now.
        let taken = try StatusCommandTests.chatd(["partitions"] + system.sharedArguments)
        #expect(taken.standardOutput.contains("\(system.storageEndpoints[1]): 0 1 2 3 4 5 6 7\n"), "\(taken.standardOutput)")
        let servedBeforeWaking = servedBy0()
        kill(frozen, SIGCONT)
        try waitUntil("a whole round stored with storage-0 awake", timeout: .seconds(60), interval: .milliseconds(1)) {
            try texts.send(timeout: 20)
        }
        // Awake, it finds its leases gone, and the two share the partitions out again.
        try waitUntil("storage-0 serving partitions again", timeout: .seconds(30)) { servedBy0() > servedBeforeWaking }
        #expect(system.log.contains("partition lease lost; not serving it"))
        // The operator's view of the leases, and no moving by hand.
        let shown = try StatusCommandTests.chatd(["partitions"] + system.sharedArguments)
        #expect(shown.standardOutput.contains("(leases in PostgreSQL)"), "\(shown.standardOutput)\(shown.standardError)")
        #expect(shown.standardOutput.contains("\(system.storageEndpoints[0]): "), "\(shown.standardOutput)")
        let move = try StatusCommandTests.chatd(["partitions", "--move", "1", "--to", system.storageEndpoints[1]] + system.sharedArguments)
        #expect(move.status != 0 && move.standardError.contains("start or stop workers instead"), "\(move.standardError)")
        try texts.expectAcknowledgedOnceAndNoneTwice()
    }

    /// Scaling storage with PostgreSQL is starting and stopping workers (`storage.endpoints`
    /// edited and reloaded, 2 -> 3 -> 1 -> 2): no map is written; a new worker takes its share
    /// of the leases from the others, a stopping one hands its partitions over before it exits;
    /// every text is answered `ok` and is in its history once, in order.
    @Test func workersAddedAndRemovedWhileTextsFlow() throws {
        let config = "log_level = \"info\"\n"
        let system = try ChatSystem(settings: try ChatSystem.Backend.postgres.settings(), config: config,
                                    storageWorkers: 3, configuredStorageWorkers: 2)
        defer { system.stop(); system.removeData() }
        var texts = TextRounds(try (0..<6).map { _ in try system.signedInUser() })
        func storageWorkers() -> [Int] { (0..<3).filter { system.childPID("storage", index: $0) != nil } }
        try texts.send()
        for count in [3, 1, 2] {
            try system.rewriteConfig(config + LocalPorts.storageConfig(Array(system.storageEndpoints.prefix(count))))
            kill(system.supervisor.processIdentifier, SIGHUP)
            for _ in 0..<3 { try texts.send() }
            try waitUntil("\(count) storage workers; log:\n\(system.log)", timeout: .seconds(30)) { storageWorkers() == Array(0..<count) }
            try texts.send()
        }
        try waitUntil("both workers holding partitions", timeout: .seconds(20)) {
            let lines = (try? StatusCommandTests.chatd(["partitions"] + system.sharedArguments).standardOutput) ?? ""
            return lines.contains("\(system.storageEndpoints[0]): ") && lines.contains("\(system.storageEndpoints[1]): ")
        }
        #expect(system.log.contains("partitions handed over to the other storage workers"))
        #expect(!system.log.contains("child exited"), "a planned start or stop was taken for a crash")
        try texts.expectEachOnceInOrder()
    }

    /// With `storage.files_folder` (a folder every storage worker mounts) the bytes go there,
    /// and only the records into the database.
    @Test func aSharedFilesFolderKeepsTheBytes() throws {
        let server = try PostgresServer()
        let url = try server.newDatabase()
        let shared = FileManager.default.temporaryDirectory.appendingPathComponent("shared-files-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: shared) }
        let system = try ChatSystem(settings: ["storage.backend=\"postgres\"", "storage.postgres_url=\"\(url)\"",
                                               "storage.files_folder=\"\(shared.path)\""])
        defer { system.stop(); system.removeData() }
        let (alice, a) = try system.signedInUser()
        let b = try system.registeredUser()
        #expect(try alice.upload(from: a, to: b, name: "shared.bin", bytes: Self.fileBytes) == "Target user offline")
        let blobs = FileManager.default.enumerator(atPath: shared.path)?.compactMap { $0 as? String }
            .filter { $0.split(separator: "/").count == 2 && !$0.hasSuffix("/tmp") } ?? []
        #expect(blobs.count == 1, "\(blobs)")
        let sizes = blobs.compactMap { try? FileManager.default.attributesOfItem(atPath: shared.appendingPathComponent($0).path)[.size] as? Int }
        #expect(sizes == [Self.fileBytes.count])
        let chunks = try PostgresConnection(url: url).query("SELECT count(*) FROM chat_blob_chunks").integer(0, 0)
        #expect(chunks == 0, "no bytes in the database")
        #expect(try alice.download(me: a, peer: b, name: "shared.bin") == Self.fileBytes)
        // A backup of the data folder says what it cannot hold.
        let destination = FileManager.default.temporaryDirectory.appendingPathComponent("pg-backup-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: destination) }
        let backup = try StatusCommandTests.chatd(["backup", destination.path] + system.sharedArguments)
        #expect(backup.status == 0, "\(backup.standardError)")
        #expect(backup.standardOutput.contains("not in this copy: histories (storage.postgres_url), file bytes (storage.files_folder"),
                "\(backup.standardOutput)")
    }

    /// `postgres` without a URL is refused at start, saying why.
    @Test func aBackendWithoutAURLIsRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pg-refused-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let refused = try StatusCommandTests.chatd(["--data-dir", folder.path, "--set", "storage.backend=\"postgres\""])
        #expect(refused.status != 0)
        #expect((refused.standardOutput + refused.standardError).contains("storage.backend is \"postgres\" but storage.postgres_url is empty"))
    }
}
