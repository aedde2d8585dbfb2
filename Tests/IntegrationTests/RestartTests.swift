import ChatTestSupport
import Foundation
import Testing

/// The supervisor brings killed workers back, and chat goes on without clients signing in again.
@Suite(.serialized) struct RestartTests {
    /// Sends until the reply is `ok` (a restarted worker may answer `Service unavailable` or,
    /// before presence is rebuilt, `Target user offline` for a moment).
    private func sendUntilDelivered(_ client: TestClient, from: String, to: String, text: String, timeout: Duration = .seconds(15)) throws -> String {
        var reply = ""
        try waitUntil("\"\(text)\" to be delivered (last reply: \(reply))", timeout: timeout, interval: .milliseconds(200)) {
            reply = try client.ask("\(from) to \(to) 202004131702 text\n\(text)")
            return reply == "ok"
        }
        return reply
    }

    /// Reads pushes until `text` arrives; throws if it has not within `timeout`.
    private func receive(_ client: TestClient, text: String, timeout: Duration = .seconds(10)) throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw WaitTimedOut(description: "\"\(text)\" did not arrive within \(timeout)") }
            if try client.readLine(timeout: left.seconds) == text { return true }
        }
    }

    private func withTwoUsers(on backend: ChatSystem.Backend = .sqlite, _ body: (ChatSystem, TestClient, String, TestClient, String) throws -> Void) throws {
        let system = try ChatSystem(settings: try backend.settings())
        defer { system.stop(); system.removeData() }
        let alice = try TestClient(port: system.port), a = TestUIDs.make()
        try alice.signUpAndIn(a)
        let bob = try TestClient(port: system.port), b = TestUIDs.make()
        try bob.signUpAndIn(b)
        try body(system, alice, a, bob, b)
    }

    @Test(arguments: ChatSystem.Backend.allCases) func routerKilledComesBackWithPresenceRebuilt(_ backend: ChatSystem.Backend) throws {
        try withTwoUsers(on: backend) { system, alice, a, bob, b in
            _ = try system.killAndAwaitRestart("router")
            #expect(try sendUntilDelivered(alice, from: a, to: b, text: "after the router restart") == "ok")
            #expect(try receive(bob, text: "after the router restart"))
            #expect(system.log.contains("gateway presence synced"))
        }
    }

    @Test(arguments: ChatSystem.Backend.allCases) func authKilledComesBack(_ backend: ChatSystem.Backend) throws {
        try withTwoUsers(on: backend) { system, alice, a, bob, b in
            _ = try system.killAndAwaitRestart("auth")
            var reply = ""
            let newcomer = try TestClient(port: system.port), n = TestUIDs.make()
            try waitUntil("a sign-up after the auth restart (last reply: \(reply))", timeout: .seconds(15), interval: .milliseconds(200)) {
                reply = try newcomer.ask("signup \(n) pw")
                return reply == "signup successfully"
            }
            #expect(try sendUntilDelivered(alice, from: a, to: b, text: "after the auth restart") == "ok")
            #expect(try receive(bob, text: "after the auth restart"))
        }
    }

    @Test(arguments: ChatSystem.Backend.allCases) func storageWorkerKilledComesBackWithHistoryIntact(_ backend: ChatSystem.Backend) throws {
        try withTwoUsers(on: backend) { system, alice, a, bob, b in
            let reply = try alice.ask("\(a) to \(b) 202004131702 text\nbefore")
            #expect(reply == "ok")
            #expect(try receive(bob, text: "before"))
            _ = try system.killAndAwaitRestart("storage", index: 0)
            _ = try system.killAndAwaitRestart("storage", index: 1)
            #expect(try sendUntilDelivered(alice, from: a, to: b, text: "after") == "ok")
            #expect(try receive(bob, text: "after"))
            let history = "\(a) to \(b) 202004131702 text\nbefore\n\(a) to \(b) 202004131702 text\nafter\n"
            #expect(try bob.ask("\(b) history \(a) all") == "server_data_size\(history.utf8.count)")
            try bob.sendLine("ok")
            #expect(try bob.read(count: history.utf8.count) == Array(history.utf8))
        }
    }

    @Test func storageKilledMidUploadLeavesNoTrace() throws {
        try withTwoUsers { system, alice, a, bob, b in
            #expect(try alice.ask("\(a) to \(b) 202004131702 file 8000000\ncut.bin") == "ok")
            try alice.send([UInt8](repeating: 3, count: 2_000_000))
            // Both workers: whichever owns the pair dies mid-upload.
            _ = try system.killAndAwaitRestart("storage", index: 0)
            _ = try system.killAndAwaitRestart("storage", index: 1)
            try alice.send([UInt8](repeating: 3, count: 6_000_000))
            #expect(try alice.readReply(timeout: 30) == "Service unavailable")
            #expect(try sendUntilDelivered(alice, from: a, to: b, text: "still here") == "ok")
            #expect(try receive(bob, text: "still here"))
            #expect(try bob.ask("\(b) history \(a) filename cut.bin") == "No such file")
            let files = system.dataDirectory.appendingPathComponent("files").path
            let left = (FileManager.default.enumerator(atPath: files)?.allObjects as? [String] ?? [])
                .filter { $0.split(separator: "/").count >= 2 && !$0.hasSuffix("/tmp") }
            #expect(left.isEmpty, "\(left)")
        }
    }

    @Test func stopStopsEveryProcessAndDataSurvivesARestart() throws {
        let system = try ChatSystem()
        defer { system.stop(); system.removeData() }
        let alice = try TestClient(port: system.port), a = TestUIDs.make()
        try alice.signUpAndIn(a)
        let b = TestUIDs.make()
        #expect(try TestClient(port: system.port).ask("signup \(b) pw") == "signup successfully")
        #expect(try alice.ask("\(a) to \(b) 202004131702 text\nkept") == "Target user offline")
        #expect(system.childPIDs.count == 5, "auth, two storage workers, router and gateway")
        #expect(system.stop())
        #expect(alice.isClosedByServer(within: 5))

        try system.restart()
        let bob = try TestClient(port: system.port)
        #expect(try bob.ask("signin \(b) pw") == "signin successfully")
        let history = "\(a) to \(b) 202004131702 text\nkept\n"
        #expect(try bob.ask("\(b) history \(a) all") == "server_data_size\(history.utf8.count)")
        try bob.sendLine("ok")
        #expect(try bob.read(count: history.utf8.count) == Array(history.utf8))
    }

    @Test func historyStaysReachableWhenStorageWorkersChange() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chat-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var pairs: [(String, String)] = []
        do {
            let system = try ChatSystem(dataDirectory: folder, storageWorkers: 2)
            defer { system.stop() }
            let sender = try TestClient(port: system.port), s = TestUIDs.make()
            try sender.signUpAndIn(s)
            for _ in 0..<12 {
                let peer = TestUIDs.make()
                #expect(try TestClient(port: system.port).ask("signup \(peer) pw") == "signup successfully")
                #expect(try sender.ask("\(s) to \(peer) 202004131702 text\nfor \(peer)") == "Target user offline")
                #expect(try sender.ask("\(s) to \(peer) 202004131702 file 3\nf.bin") == "ok")
                try sender.send(Array(peer.utf8.prefix(3)))
                #expect(try sender.readLine() == "Target user offline")
                pairs.append((s, peer))
            }
        }
        for workers in [3, 1] {
            let system = try ChatSystem(dataDirectory: folder, storageWorkers: workers)
            defer { system.stop() }
            let sender = try TestClient(port: system.port)
            #expect(try sender.ask("signin \(pairs[0].0) pw") == "signin successfully")
            for (s, peer) in pairs {
                let record = "\(s) to \(peer) 202004131702 text\nfor \(peer)\n\(s) to \(peer) 202004131702 file 3\nf.bin\n"
                #expect(try sender.ask("\(s) history \(peer) all") == "server_data_size\(record.utf8.count)", "\(workers) workers")
                try sender.sendLine("ok")
                #expect(try sender.read(count: record.utf8.count) == Array(record.utf8))
                #expect(try sender.ask("\(s) history \(peer) filename f.bin") == "server_data_size3")
                try sender.sendLine("ok")
                #expect(try sender.read(count: 3) == Array(peer.utf8.prefix(3)))
            }
        }
    }
}
