@testable import ChatBus
import ChatRuntime
import ChatTestSupport
import Foundation
import Testing

/// Two auth workers (`auth.endpoints`) sharing one SQLite file, or one PostgreSQL database:
/// requests go to the worker their uid hashes to, an account made by one is seen by the
/// other, and a worker killed leaves the other answering for everyone.
@Suite(.serialized) struct SeveralAuthWorkersTests {
    /// Fresh uids until one hashes to `worker` of two.
    private func uid(forWorker worker: Int) -> String {
        while true {
            let uid = TestUIDs.make()
            if AuthWorkers.worker(for: uid, among: 2) == worker { return uid }
        }
    }

    @Test(arguments: ChatSystem.Backend.allCases) func accountsMadeByOneWorkerAreSeenByTheOther(_ backend: ChatSystem.Backend) throws {
        let ports = try LocalPorts.free(2)
        let endpoints = ports.map { "\"tcp://127.0.0.1:\($0)\"" }.joined(separator: ", ")
        let system = try ChatSystem(settings: ["auth.endpoints=[\(endpoints)]"] + (try backend.settings()))
        defer { system.stop(); system.removeData() }
        let first = try #require(system.childPID("auth", index: 0)), second = try #require(system.childPID("auth", index: 1))
        #expect(first != second)
        let alice = uid(forWorker: 0), bob = uid(forWorker: 1)
        let a = try TestClient(port: system.port), b = try TestClient(port: system.port)
        try a.signUpAndIn(alice)
        try b.signUpAndIn(bob)
        // alice's worker (0) adds bob, whom worker 1 signed up, reading the shared file.
        #expect(try a.ask("\(alice) to \(bob) addFriend") == "ok")
        #expect(try b.ask("\(bob) friends").contains(alice))
        // Worker 0 killed, with the supervisor frozen so that it cannot restart it yet: its uids
        // go to worker 1, and come back to it once it is restarted.
        let supervisor = system.supervisor.processIdentifier
        kill(supervisor, SIGSTOP)
        defer { kill(supervisor, SIGCONT) }
        kill(first, SIGKILL)
        try waitUntil("alice signs in through worker 1", timeout: .seconds(20)) {
            guard let again = try? TestClient(port: system.port) else { return false }
            return (try? again.ask("signin \(alice) pw")) == "signin successfully"
        }
        kill(supervisor, SIGCONT)
        try waitUntil("worker 0 restarted", timeout: .seconds(20)) { system.childPID("auth", index: 0).map { $0 != first } ?? false }
        let c = try TestClient(port: system.port)
        #expect(try c.ask("signin \(bob) pw") == "signin successfully")
        #expect(system.log.contains("chatd.auth-1:"), "workers log by their names")
    }
}
