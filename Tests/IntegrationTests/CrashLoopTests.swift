import ChatTestSupport
import Foundation
import Testing

/// A worker that keeps crashing is restarted for as long as it takes, reported as failing past
/// the restart limit, and never takes its healthy siblings or the supervisor down.
@Suite struct CrashLoopTests {
    /// `from` texts `to`, which reads it at once: the two streams hold nothing else after.
    private func exchange(_ from: TestClient, _ fromUID: String, _ to: TestClient, _ toUID: String, text: String) throws {
        #expect(try from.ask("\(fromUID) to \(toUID) 202004131702 text\n\(text)") == "ok")
        #expect(try to.readLine() == "\(fromUID) to \(toUID) 202004131702 text")
        #expect(try to.readLine() == text)
    }

    @Test func authKilledPastTheRestartLimitWhileOthersKeepChatting() throws {
        let system = try ChatSystem(settings: ["supervisor.max_restarts=2", "supervisor.max_backoff_seconds=1"])
        defer { system.stop(); system.removeData() }
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        // Once each way first, so the gateway knows both uids and texts need no auth.
        try exchange(alice, a, bob, b, text: "hello before")
        try exchange(bob, b, alice, a, text: "hello back")
        let siblings = ["router", "gateway"].map { system.childPID($0) } + [0, 1].map { system.childPID("storage", index: $0) }
        #expect(siblings.allSatisfy { $0 != nil })

        // Five kills, past max_restarts (2) within the 60 s window; texts go on while auth is down.
        for round in 1...5 {
            let old = try #require(system.childPID("auth"))
            kill(old, SIGKILL)
            try exchange(alice, a, bob, b, text: "round \(round) from alice")
            try exchange(bob, b, alice, a, text: "round \(round) from bob")
            try waitUntil("auth back after kill \(round); log:\n\(system.log)", timeout: .seconds(20)) {
                system.childPID("auth").map { $0 != old } ?? false
            }
        }

        #expect(system.supervisor.isRunning)
        #expect(["router", "gateway"].map { system.childPID($0) } + [0, 1].map { system.childPID("storage", index: $0) } == siblings)
        let failing = system.log.split(separator: "\n").filter { $0.contains("child failing") && $0.contains("supervisor.child=auth") }
        #expect(failing.count >= 3, "kills 3 to 5 are past the limit; log:\n\(system.log)")
        #expect(failing.allSatisfy { $0.contains("supervisor.delay_s=1.0") })
        #expect(!system.log.contains("giving up"))

        // The kills have stopped: auth serves again.
        let newcomer = try TestClient(port: system.port), n = TestUIDs.make()
        var reply = ""
        try waitUntil("a sign-up after the kills (last reply: \(reply))", timeout: .seconds(15), interval: .milliseconds(200)) {
            reply = try newcomer.ask("signup \(n) pw")
            return reply == "signup successfully"
        }
        try exchange(alice, a, bob, b, text: "after the storm")
    }
}
