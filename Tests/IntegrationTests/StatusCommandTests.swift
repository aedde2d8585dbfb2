import ChatRuntime
import ChatTestSupport
import Foundation
import Testing

/// `chatd status` run as an operator runs it, against a real system: what it lists, how soon it
/// sees a crash, and what it says with nothing running.
@Suite struct StatusCommandTests {
    /// What `chatd status` printed and its exit status.
    struct Run {
        let status: Int32
        let standardOutput: String
        let standardError: String
    }

    static func chatd(_ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = ChatSystem.binaries.appendingPathComponent("chatd")
        process.arguments = arguments
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let standardOutput = ChildOutput(output), standardError = ChildOutput(error)
        guard process.exits(within: .seconds(30)), standardOutput.ends(within: .seconds(5)), standardError.ends(within: .seconds(5)) else {
            process.stop(with: SIGKILL)
            throw ChatSystem.Failure(description: "chatd \(arguments) did not finish")
        }
        return Run(status: process.terminationStatus, standardOutput: standardOutput.text, standardError: standardError.text)
    }

    /// Each process of `chatd status --json`, by name, as the documented keys give it.
    static func processes(of system: ChatSystem) throws -> [String: [String: Any]] {
        let run = try chatd(["status", "--json", "--data-dir", system.dataDirectory.path])
        guard run.status == 0,
              let json = try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any],
              let processes = json["processes"] as? [[String: Any]], json["sessions_online"] is Int else {
            throw ChatSystem.Failure(description: "unexpected status (exit \(run.status)): \(run.standardOutput)\(run.standardError)")
        }
        return Dictionary(processes.map { ($0["name"] as? String ?? "", $0) }) { first, _ in first }
    }

    @Test func listsEveryChildRunningAndSeesAKilledWorkerWithinASecond() throws {
        let system = try ChatSystem(settings: ["telemetry.interval_ms=200"])
        defer { system.stop(); system.removeData() }
        let names = ["auth", "storage-0", "storage-1", "router", "gateway"]
        var processes: [String: [String: Any]] = [:]
        // Ready means answering clients; the figures follow with the next reports.
        try waitUntil("every child running with its figures: \(processes)", timeout: .seconds(10), interval: .milliseconds(200)) {
            processes = try Self.processes(of: system)
            return names.allSatisfy { processes[$0]?["state"] as? String == "running" && processes[$0]?["requests_in_flight"] is Int }
        }
        #expect(Set(processes.keys) == Set(names))
        #expect(processes["storage-0"]?["role"] as? String == "storage")
        #expect(processes["gateway"]?["pid"] as? Int == system.childPID("gateway").map(Int.init))
        #expect(processes.values.allSatisfy { $0["restarts"] as? Int == 0 })

        let old = try #require(system.childPID("storage", index: 0))
        #expect(processes["storage-0"]?["pid"] as? Int == Int(old))
        let killed = ContinuousClock.now
        kill(old, SIGKILL)
        var storage: [String: Any] = [:]
        try waitUntil("status to show storage-0 gone or restarted: \(storage)", timeout: .seconds(1), interval: .milliseconds(10)) {
            storage = try Self.processes(of: system)["storage-0"] ?? [:]
            let restarted = (storage["pid"] as? Int).map { $0 != Int(old) } ?? false && storage["restarts"] as? Int == 1
            return storage["state"] as? String != "running" || restarted
        }
        #expect(ContinuousClock.now - killed < .seconds(1))
        #expect(storage["restarts"] as? Int == 1)
        #expect(storage["pid"] as? Int != Int(old))
        // The human table too, with the supervisor's other children untouched.
        let table = try Self.chatd(["status", "--data-dir", system.dataDirectory.path])
        #expect(table.status == 0)
        #expect(table.standardOutput.hasPrefix("PROCESS"))
        #expect(table.standardOutput.contains("sessions online: "))
    }

    /// A storage worker that stops answering (stopped, not dead: its socket stays connected)
    /// costs the gateway's requests a timeout each: logged naming the worker, and counted in
    /// the gateway's status.
    @Test func timeoutsToAStuckWorkerAreLoggedByNameAndShownInStatus() throws {
        let system = try ChatSystem(settings: ["telemetry.interval_ms=200"])
        defer { system.stop(); system.removeData() }
        let (alice, a) = try system.signedInUser()
        let workers = try [0, 1].map { try #require(system.childPID("storage", index: $0)) }
        for pid in workers { kill(pid, SIGSTOP) }
        defer { for pid in workers { kill(pid, SIGCONT) } }
        #expect(try alice.ask("\(a) history 000000 all") == "Service unavailable")
        let timeouts = { system.log.split(separator: "\n").filter { $0.contains("bus: requests to a worker timed out") } }
        try waitUntil("the timeout logged; log:\n\(system.log)", timeout: .seconds(5)) { !timeouts().isEmpty }
        let line = try #require(timeouts().first)
        #expect(line.contains("chatd.gateway"))
        #expect(line.contains("bus.worker=storage-"))
        #expect(line.contains("bus.requests=1"))
        var gateway: [String: Any] = [:]
        try waitUntil("the gateway's status to count the timeout: \(gateway)", timeout: .seconds(5), interval: .milliseconds(100)) {
            gateway = try Self.processes(of: system)["gateway"] ?? [:]
            return gateway["bus_timeouts_last_minute"] as? Int == 1
        }
    }

    @Test func theAdminSocketIsTheOwnersOnlyAndGoneAfterAStop() throws {
        let system = try ChatSystem()
        defer { system.removeData() }
        let path = system.dataDirectory.appendingPathComponent("admin.sock").path
        var info = stat()
        #expect(lstat(path, &info) == 0)
        #expect(info.st_mode & S_IFMT == S_IFSOCK)
        #expect(info.st_mode & 0o777 == 0o600)
        let reload = try Self.chatd(["reload", "--data-dir", system.dataDirectory.path])
        #expect(reload.status == 0)
        #expect(!reload.standardOutput.isEmpty)
        #expect(system.stop())
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    /// A second supervisor on the same data folder stops before binding anything: the first
    /// keeps its admin socket and its telemetry (an `ipc://` bind would have taken it over).
    @Test func aSecondSupervisorOnTheSameDataFolderRefusesToStart() throws {
        let system = try ChatSystem(settings: ["telemetry.interval_ms=200"])
        defer { system.stop(); system.removeData() }
        let second = try Self.chatd(["--data-dir", system.dataDirectory.path, "--port", String(try LocalPorts.free(1)[0])])
        #expect(second.status == 1)
        #expect(second.standardError.contains("another chatd answers on \(system.dataDirectory.path)/admin.sock"))
        // Reports sent after the refusal still reach the first supervisor.
        Thread.sleep(forTimeInterval: 0.8)
        let processes = try Self.processes(of: system)
        #expect(processes["gateway"]?["requests_in_flight"] is Int)
        #expect(processes["gateway"]?["state"] as? String == "running")
    }

    @Test func withNothingRunningSaysSoAndExitsOne() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chat-none-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for arguments in [["status"], ["status", "--json"], ["reload"]] {
            let run = try Self.chatd(arguments + ["--data-dir", folder.path])
            #expect(run.status == 1)
            #expect(run.standardOutput.isEmpty)
            #expect(run.standardError == "chatd is not running (no admin socket at \(folder.path)/admin.sock)\n")
        }
    }
}
