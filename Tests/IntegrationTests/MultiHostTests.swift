import ChatBenchmark
import ChatTestSupport
import Foundation
import Testing

/// A system spread over machines (network namespaces, `MultiHostLab`), with PostgreSQL: a
/// storage worker's machine cut off the network has its partitions taken over by the other
/// worker while users go on chatting, and no acknowledged text is lost or stored twice.
@Suite(.serialized, .enabled(if: NATLab.isAvailable, "needs root and ip netns: the multi-host lab is skipped"))
struct MultiHostTests {
    @Test func aStorageMachineCutOffHasItsPartitionsTakenOver() throws {
        let lab = try MultiHostLab()
        defer { lab.tearDown() }
        let database = try PostgresServer(listeningOn: MultiHostLab.address("db"), inNamespace: lab.namespaceName("db"))
        let url = try database.newDatabase()
        let config = lab.folder.appendingPathComponent("chat.toml")
        try """
            [gateway]
            port = 7890
            [auth]
            endpoint = "tcp://\(MultiHostLab.address("auth")):7901"
            backend = "postgres"
            postgres_url = "\(url)"
            scrypt_n = 16
            [router]
            endpoint = "tcp://\(MultiHostLab.address("router")):7902"
            [storage]
            endpoints = ["tcp://\(MultiHostLab.address("st0")):7910", "tcp://\(MultiHostLab.address("st1")):7910"]
            partitions = 8
            backend = "postgres"
            postgres_url = "\(url)"
            lease_seconds = 3
            """.write(to: config, atomically: true, encoding: .utf8)
        // Each machine its own data folder, with the system's bus key copied in.
        func dataFolder(_ host: String) -> String { lab.folder.appendingPathComponent("data-\(host)").path }
        let keys = try StatusCommandTests.chatd(["keys", "--config", config.path, "--data-dir", dataFolder("auth")])
        #expect(keys.status == 0, "\(keys.standardError)")
        for host in ["st0", "st1", "router", "gw"] {
            try FileManager.default.createDirectory(atPath: dataFolder(host), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "\(dataFolder("auth"))/keys", toPath: "\(dataFolder(host))/keys")
        }
        for (role, host) in [(["auth"], "auth"), (["storage", "--index", "0"], "st0"), (["storage", "--index", "1"], "st1"),
                             (["router"], "router"), (["gateway"], "gw")] {
            try lab.start(role + ["--config", config.path, "--data-dir", dataFolder(host)], on: host, name: host)
        }
        let gateway = MultiHostLab.address("gw")
        var users: [(TestClient, String)] = []
        try waitUntil("the gateway answers", timeout: .seconds(30)) { (try? TestClient(port: 7890, host: gateway, from: nil)) != nil }
        for _ in 0..<5 {
            let uid = TestUIDs.make()
            let client = try TestClient(port: 7890, host: gateway, from: nil)
            try client.signUpAndIn(uid)
            users.append((client, uid))
        }
        var texts = UnsureTextRounds(users)
        do {
            try waitUntil("a whole round stored", timeout: .seconds(60), interval: .milliseconds(1)) { try texts.send() }
            let before = try StatusCommandTests.chatd(["partitions", "--config", config.path, "--data-dir", dataFolder("gw")])
            #expect(before.standardOutput.contains("tcp://\(MultiHostLab.address("st0")):7910: "), "\(before.standardOutput)")
            // st0's machine is cut off: from the database, the gateway, everyone.
            try lab.cut("st0")
            try waitUntil("a whole round stored with st0 cut off", timeout: .seconds(90), interval: .milliseconds(1)) { try texts.send() }
            let after = try StatusCommandTests.chatd(["partitions", "--config", config.path, "--data-dir", dataFolder("gw")])
            #expect(after.standardOutput.contains("tcp://\(MultiHostLab.address("st1")):7910: 0 1 2 3 4 5 6 7"), "\(after.standardOutput)")
            try lab.restore("st0")
            for _ in 0..<3 { _ = try texts.send() }
            try waitUntil("a whole round stored with st0 back", timeout: .seconds(90), interval: .milliseconds(1)) { try texts.send() }
        } catch {
            Issue.record("\(error)\n\(lab.logs)")
            throw error
        }
        #expect(texts.unanswered.count < texts.acknowledged.count,
                "\(texts.unanswered.count) unanswered of \(texts.acknowledged.count + texts.unanswered.count)")
        try texts.expectAcknowledgedOnceAndNoneTwice()
    }
}
