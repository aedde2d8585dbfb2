import ChatTestSupport
import Foundation
import Testing

/// The whole system with its accounts and history in PostgreSQL (`auth.backend` and
/// `storage.backend = "postgres"`), a throwaway server the test starts: what was acknowledged
/// survives killed workers, and lives in the database, not in the data folder.
@Suite(.serialized) struct PostgresBackendTests {
    @Test func accountsAndHistoryLiveInPostgreSQL() throws {
        let server = try PostgresServer()
        let url = try server.newDatabase()
        let settings = ["storage.backend=\"postgres\"", "storage.postgres_url=\"\(url)\"",
                        "auth.backend=\"postgres\"", "auth.postgres_url=\"\(url)\""]
        let alice = TestUIDs.make(), bob = TestUIDs.make()
        var sent: [String] = []
        do {
            let system = try ChatSystem(settings: settings)
            defer { system.stop(); system.removeData() }
            let a = try TestClient(port: system.port), b = try TestClient(port: system.port)
            try a.signUpAndIn(alice)
            try b.signUpAndIn(bob)
            #expect(try a.ask("\(alice) to \(bob) addFriend") == "ok")
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
