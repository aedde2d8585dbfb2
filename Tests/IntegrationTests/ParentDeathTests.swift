import ChatRuntime
import ChatTestSupport
import Foundation
import Testing

/// No process outlives the one that started it, however that one ends: the kernel sends
/// SIGTERM (PR_SET_PDEATHSIG) and each stops as when told to, committing what it holds.
@Suite struct ParentDeathTests {
    /// True once every one of `pids` has exited; false if one still runs after `timeout`.
    private func awaitExit(_ pids: [Int32], timeout: Duration = .seconds(20)) -> Bool {
        (try? waitUntil("exit", timeout: timeout) { pids.allSatisfy(ChatSystem.hasExited) }) != nil
    }

    @Test func childrenStopWhenTheSupervisorIsKilled() throws {
        let system = try ChatSystem()
        defer { system.removeData() }
        let children = system.childPIDs
        #expect(children.count == 5, "auth, two storage workers, router and gateway")

        kill(system.supervisor.processIdentifier, SIGKILL)
        #expect(system.supervisor.exits(within: .seconds(10)))

        #expect(awaitExit(children), "children still running after the supervisor died; log:\n\(system.log)")
        // Through their SIGTERM path, which logs, rather than killed outright.
        let stops = system.log.split(separator: "\n").filter { $0.contains("process.signal=15") && $0.contains("stopping on signal") }
        #expect(stops.count == children.count, "log:\n\(system.log)")
    }

    @Test func theSystemStopsWhenTheProcessItWatchesIsKilled() throws {
        // A stand-in for a test harness: a shell that starts chatd watching the shell itself.
        let ports = try LocalPorts.free(5)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chat-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let log = folder.appendingPathComponent("chatd.log")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let chatd = [ChatSystem.binaries.appendingPathComponent("chatd").path, "--data-dir", folder.path,
                     "--port", String(ports[0]), "--set", "auth.scrypt_n=16"]
            + LocalPorts.internalEndpointSettings(Array(ports.dropFirst()))
        let harness = Process()
        harness.executableURL = URL(fileURLWithPath: "/bin/sh")
        harness.arguments = ["-c", "\"$@\" --exit-with-parent $$ >\"\(log.path)\" 2>&1 & wait", "sh"] + chatd
        try harness.run()
        defer { if harness.isRunning { kill(harness.processIdentifier, SIGKILL) } }

        // Every process of the system, once the gateway listens (it starts last).
        var system: [Int32] = []
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let logged = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if logged.contains("gateway listening"), let supervisor = ChatSystem.children(of: harness.processIdentifier).first {
                system = [supervisor] + ChatSystem.children(of: supervisor)
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(system.count == 6, "supervisor and its five children")

        kill(harness.processIdentifier, SIGKILL)
        #expect(harness.exits(within: .seconds(10)))

        let logged = { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
        #expect(awaitExit(system), "processes still running after the harness died; log:\n\(logged())")
        #expect(logged().contains("all children stopped"), "the supervisor stopped them itself; log:\n\(logged())")
    }

    @Test func aChildWhoseParentIsAlreadyGoneExitsAtOnce() throws {
        // The parent can die before the child asks to be told of it; the child must notice.
        // Told that its parent is a process that is not its parent, it takes that case.
        let ports = try LocalPorts.free(1)
        let output = Pipe()
        let router = Process()
        router.executableURL = ChatSystem.binaries.appendingPathComponent("chatd")
        router.arguments = ["router", "--set", "router.endpoint=\"tcp://127.0.0.1:\(ports[0])\"", "--parent-pid", String(getpid() &+ 1_000_000)]
        router.standardError = output
        try ProcessLauncher.shared.launch(router)
        let deadline = Date().addingTimeInterval(20)
        while router.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if router.isRunning { kill(router.processIdentifier, SIGKILL) }
        #expect(router.exits(within: .seconds(10)))
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(router.terminationReason == .exit && router.terminationStatus == 0)
        #expect(text.contains("parent is gone already"), "output:\n\(text)")
        #expect(!text.contains("router ready"))
    }
}
