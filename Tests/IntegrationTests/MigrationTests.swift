import ChatBenchmark
import ChatTestSupport
import Foundation
import Postgres
import Testing

/// `chatd migrate --from-sqlite DATA_DIR --to URL`: an embedded system's accounts, friends,
/// histories and files, copied into PostgreSQL, where a system on an empty data folder finds
/// them all; run again, it copies nothing twice.
@Suite(.serialized) struct MigrationTests {
    @Test func anEmbeddedSystemMovesToPostgreSQLAndAReRunCopiesNothingTwice() throws {
        let server = try PostgresServer()
        let url = try server.newDatabase()
        let alice = TestUIDs.make(), bob = TestUIDs.make()
        let file = (0..<(2 << 20) + 777).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let embedded = try ChatSystem()
        defer { embedded.removeData() }
        do {
            defer { _ = embedded.stop() }
            let a = try TestClient(port: embedded.port), b = try TestClient(port: embedded.port)
            try a.signUpAndIn(alice)
            try b.signUpAndIn(bob)
            #expect(try a.ask("\(alice) to \(bob) addFriend") == "ok")
            for round in 0..<20 { #expect(try a.ask("\(alice) to \(bob) 202612071000 text\nembedded \(round)") == "ok") }
            #expect(try a.upload(from: alice, to: bob, name: "moved.bin", bytes: file) == "ok")
            // While it runs, migrate refuses: its storage workers hold the partitions.
            let refused = try StatusCommandTests.chatd(["migrate", "--from-sqlite", embedded.dataDirectory.path, "--to", url])
            #expect(refused.status != 0 && refused.standardError.contains("stop chatd first"), "\(refused.standardError)")
        }
        let first = try StatusCommandTests.chatd(["migrate", "--from-sqlite", embedded.dataDirectory.path, "--to", url])
        #expect(first.status == 0, "\(first.standardError)")
        // alice, bob and the account the test system signs up to see it is ready.
        #expect(first.standardOutput.contains("accounts: 3 users, 1 friendships, 1 stored-byte counts copied"), "\(first.standardOutput)")
        #expect(first.standardOutput.contains("1 files (\(file.count) bytes) copied"), "\(first.standardOutput)")
        let again = try StatusCommandTests.chatd(["migrate", "--from-sqlite", embedded.dataDirectory.path, "--to", url])
        #expect(again.status == 0, "\(again.standardError)")
        #expect(again.standardOutput.contains("accounts: 0 users, 0 friendships, 0 stored-byte counts copied"), "\(again.standardOutput)")
        #expect(again.standardOutput.contains("histories: 0 rows from"), "\(again.standardOutput)")
        #expect(again.standardOutput.contains("0 files (0 bytes) copied"), "\(again.standardOutput)")

        // A system on PostgreSQL, with a new, empty data folder.
        let moved = try ChatSystem(settings: SystemUnderTest.postgresSettings(url: url))
        defer { moved.stop(); moved.removeData() }
        let a = try TestClient(port: moved.port)
        #expect(try a.ask("signin \(alice) pw") == "signin successfully")
        #expect(try a.ask("\(alice) friends").contains(bob))
        let history = String(decoding: try a.history(me: alice, peer: bob), as: UTF8.self)
        let texts = history.components(separatedBy: "\n").filter { $0.hasPrefix("embedded ") }
        #expect(texts == (0..<20).map { "embedded \($0)" }, "each once and in order:\n\(history)")
        #expect(history.contains("\nmoved.bin\n"))
        #expect(try a.download(me: alice, peer: bob, name: "moved.bin") == file)
        // Texts go on after the migrated ones (bob is offline in this system: stored all the same).
        #expect(try a.ask("\(alice) to \(bob) 202612071001 text\nafter the move") == "Target user offline")
        let after = String(decoding: try a.history(me: alice, peer: bob), as: UTF8.self)
        #expect(after.hasSuffix("\nafter the move\n"), "\(after)")
    }
}
