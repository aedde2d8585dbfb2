import ChatTestSupport
import Foundation
import Testing

/// A reload (SIGHUP to the supervisor) re-reads the config file in every process without
/// stopping one: live settings change, the others are named and kept, an invalid file changes
/// nothing.
@Suite struct ReloadTests {
    /// The lines of `role` (`supervisor`, `gateway`, ...) in text format that contain `text`.
    private func lines(_ system: ChatSystem, of role: String, containing text: String) -> [Substring] {
        system.log.split(separator: "\n").filter { $0.contains("chatd.\(role):") && $0.contains(text) }
    }

    private func hangUp(_ system: ChatSystem) {
        kill(system.supervisor.processIdentifier, SIGHUP)
    }

    /// Two users talking over the reload: still connected, still delivered.
    private func expectStillTalking(_ alice: TestClient, _ a: String, _ bob: TestClient, _ b: String) throws {
        #expect(try alice.ask("\(a) to \(b) 202004131702 text\nstill here") == "ok")
        #expect(try bob.readLine() == "\(a) to \(b) 202004131702 text")
        #expect(try bob.readLine() == "still here")
    }

    @Test func sighupChangesTheLogLevelWithoutARestart() throws {
        let system = try ChatSystem(config: "log_level = \"info\"\n")
        defer { system.stop(); system.removeData() }
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        let supervisor = system.supervisor.processIdentifier
        let pids = system.childPIDs.sorted()
        #expect(pids.count == 5, "auth, two storage workers, router and gateway")
        #expect(lines(system, of: "gateway", containing: "signed in").isEmpty, "no debug lines at info")

        try system.rewriteConfig("log_level = \"debug\"\n")
        hangUp(system)
        try waitUntil("the gateway to apply the reload; log:\n\(system.log)", timeout: .seconds(10)) {
            !lines(system, of: "gateway", containing: "reload: applied").isEmpty
        }
        let applied = lines(system, of: "supervisor", containing: "reload: applied")
        #expect(applied.count == 1 && applied[0].contains("reload.keys=log_level"), "\(applied)")
        #expect(lines(system, of: "gateway", containing: "connection limits").count == 1, "limits left as they were are not logged again")

        let (_, carol) = try system.signedInUser()
        try waitUntil("a debug line for the new sign-in; log:\n\(system.log)", timeout: .seconds(10)) {
            lines(system, of: "gateway", containing: "signed in").contains { $0.contains("debug") && $0.contains(carol) }
        }
        try expectStillTalking(alice, a, bob, b)
        #expect(system.supervisor.processIdentifier == supervisor && system.supervisor.isRunning)
        #expect(system.childPIDs.sorted() == pids)
        #expect(!system.log.contains("child exited"))
    }

    /// `chatd reload` does what SIGHUP does, through the admin socket, and prints the outcome;
    /// a file it cannot read makes it exit 1.
    @Test func chatdReloadPrintsWhatChangedAndFailsOnAnInvalidFile() throws {
        let system = try ChatSystem(config: "log_level = \"info\"\n")
        defer { system.stop(); system.removeData() }
        let pids = system.childPIDs.sorted()

        try system.rewriteConfig("log_level = \"debug\"\n")
        let reload = try StatusCommandTests.chatd(["reload", "--data-dir", system.dataDirectory.path])
        #expect(reload.status == 0, "\(reload.standardError)")
        #expect(reload.standardOutput == "applied: log_level\n")
        try waitUntil("the gateway to apply the reload; log:\n\(system.log)", timeout: .seconds(10)) {
            !lines(system, of: "gateway", containing: "reload: applied").isEmpty
        }

        try system.rewriteConfig("log_level = \"loud\"\n")
        let failed = try StatusCommandTests.chatd(["reload", "--data-dir", system.dataDirectory.path])
        #expect(failed.status == 1)
        #expect((failed.standardOutput + failed.standardError).contains("reload failed, nothing changed"), "\(failed)")
        #expect(system.childPIDs.sorted() == pids)
    }

    /// A child restarted after the operator's file gained a setting that needs a restart runs
    /// with what its siblings run with: the supervisor's, not the file's. Here a storage worker
    /// that read the new partition count would refuse the data folder and fail in a loop.
    @Test func aRestartedChildRunsWithItsSiblingsConfigurationNotTheEditedFile() throws {
        let system = try ChatSystem(config: "log_level = \"info\"\n")
        defer { system.stop(); system.removeData() }
        try system.rewriteConfig("log_level = \"info\"\n[storage]\npartitions = 32\n")
        _ = try system.killAndAwaitRestart("storage", index: 0)
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        try expectStillTalking(alice, a, bob, b)
        #expect(!system.log.contains("holds 16 partitions"), "a restarted worker read the edited file")
    }

    @Test func anInvalidFileOnReloadIsLoggedAndChangesNothing() throws {
        let system = try ChatSystem(config: "log_level = \"info\"\n")
        defer { system.stop(); system.removeData() }
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        let pids = system.childPIDs.sorted()

        try system.rewriteConfig("log_level = \"debug\"\n[gateway\nport = 1\n")
        hangUp(system)
        try waitUntil("the reload error; log:\n\(system.log)", timeout: .seconds(10)) {
            !lines(system, of: "supervisor", containing: "reload: cannot read the configuration; nothing changed").isEmpty
        }
        let error = lines(system, of: "supervisor", containing: "reload: cannot read the configuration")[0]
        #expect(error.contains("error chatd.supervisor:") && error.contains("line 2"), "\(error)")

        // Still answering, at the old level, with the same processes.
        let (_, carol) = try system.signedInUser()
        try expectStillTalking(alice, a, bob, b)
        #expect(!lines(system, of: "gateway", containing: "signed in").contains { $0.contains(carol) })
        #expect(lines(system, of: "gateway", containing: "reload").isEmpty, "the children are not asked to reload")
        #expect(system.supervisor.isRunning)
        #expect(system.childPIDs.sorted() == pids)
    }

    @Test func aSettingThatNeedsARestartIsNamedAndKept() throws {
        let system = try ChatSystem(config: "log_level = \"info\"\n")
        defer { system.stop(); system.removeData() }
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        let pids = system.childPIDs.sorted()

        // The tests' --port wins over the file's gateway.port, at start as on reload: the
        // listening address is changed here through the file's host and thread count instead.
        try system.rewriteConfig("log_level = \"info\"\n[gateway]\nhost = \"127.0.0.2\"\nthreads = 3\nmessages_per_second = 50\n")
        hangUp(system)
        try waitUntil("the reload; log:\n\(system.log)", timeout: .seconds(10)) {
            !lines(system, of: "gateway", containing: "reload: applied").isEmpty
        }
        let kept = lines(system, of: "supervisor", containing: "reload: needs a restart, left as it was")
        #expect(kept.count == 1 && kept[0].contains("reload.keys=gateway.host,gateway.threads"), "\(kept)")
        let applied = lines(system, of: "supervisor", containing: "reload: applied")
        #expect(applied.count == 1 && applied[0].contains("reload.keys=gateway.messages_per_second"), "\(applied)")

        // Still on the old address, with the same processes.
        _ = try system.signedInUser()
        try expectStillTalking(alice, a, bob, b)
        #expect(system.childPIDs.sorted() == pids)
        #expect(!system.log.contains("child exited"))
    }

    @Test func aLiveLimitReachesTheGatewayAndOpenConnectionsStay() throws {
        let system = try ChatSystem(config: "log_level = \"info\"\n[gateway]\nmax_unauthenticated_per_address = 100\n")
        defer { system.stop(); system.removeData() }
        let held = try (0..<2).map { _ in try TestClient(port: system.port, from: "127.0.0.2") }
        for client in held { #expect(try client.ask("hello") == "Wrong sign command") }

        try system.rewriteConfig("log_level = \"info\"\n[gateway]\nmax_unauthenticated_per_address = 2\n")
        hangUp(system)
        try waitUntil("the gateway to apply the reload; log:\n\(system.log)", timeout: .seconds(10)) {
            lines(system, of: "gateway", containing: "reload: applied").contains { $0.contains("gateway.max_unauthenticated_per_address") }
        }

        #expect(try TestClient(port: system.port, from: "127.0.0.2").readLine() == "Too many connections")
        for client in held { #expect(try client.ask("hello") == "Wrong sign command") }
    }

    @Test func jsonLogLinesParse() throws {
        let system = try ChatSystem(config: "log_level = \"info\"\nlog_format = \"json\"\n")
        defer { system.stop(); system.removeData() }
        _ = try system.signedInUser()
        hangUp(system)
        try waitUntil("the gateway's reload line; log:\n\(system.log)", timeout: .seconds(10)) {
            system.log.contains("\"label\":\"chatd.gateway\",\"message\":\"reload: nothing changed\"")
        }

        var labels: Set<String> = []
        // A line still being written has no newline yet: only whole lines are read.
        let log = system.log
        for line in log.split(separator: "\n", omittingEmptySubsequences: false).dropLast() where !line.isEmpty {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            let entry = try #require(object, "not a JSON object: \(line)")
            for key in ["time", "level", "label", "message", "source"] {
                #expect(entry[key] is String, "\(key) in \(line)")
            }
            #expect(entry["metadata"] is [String: String], "\(line)")
            labels.insert(entry["label"] as? String ?? "")
        }
        #expect(labels.isSuperset(of: ["chatd.supervisor", "chatd.gateway", "chatd.auth", "chatd.router", "chatd.storage-0"]), "\(labels)")
    }
}
