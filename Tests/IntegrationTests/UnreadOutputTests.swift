import ChatTestSupport
import Foundation
import Testing

/// What clients leave unread cannot grow the gateway without bound: a history is streamed from
/// storage as the client reads it, and clients that read nothing are disconnected once the
/// gateway's output budget is spent, while everyone else goes on chatting.
@Suite struct UnreadOutputTests {
    /// The gateway's resident memory, from /proc.
    static func residentBytes(of pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Int(line.split(separator: " ")[1]) else { return nil }
        return kilobytes * 1024
    }

    @Test func aHistoryOfManyPagesArrivesByteExactWithWhatCameLaterAfterIt() throws {
        // Pages of 1 KiB: a history of a few hundred texts spans well over a hundred of them.
        // Those texts go as fast as they are answered: no message rate.
        let system = try ChatSystem(settings: ["gateway.history_page_bytes=1024", "gateway.messages_per_second=0"])
        defer { system.stop(); system.removeData() }
        let (alice, a) = try system.signedInUser()
        let b = try system.registeredUser()
        var expected = ""
        for index in 0..<400 {
            // One text per commit, so one row each; sizes vary across the page size.
            let content = "text \(index) " + String(repeating: "é", count: (index * 37) % 700)
            #expect(try alice.ask("\(a) to \(b) 202004131702 text\n\(content)") == "Target user offline")
            expected += "\(a) to \(b) 202004131702 text\n\(content)\n"
        }
        #expect(expected.utf8.count > 150 * 1024)

        #expect(try alice.ask("\(a) history \(b) all") == "server_data_size\(expected.utf8.count)")
        // Sent after the snapshot: not part of this answer, pushed after its last byte.
        let bob = try TestClient(port: system.port)
        try bob.ask("signin \(b) pw").ensure("signin successfully")
        #expect(try bob.ask("\(b) to \(a) 202004131703 text\nlater") == "ok")
        try alice.sendLine("ok")
        #expect(try alice.read(count: expected.utf8.count) == Array(expected.utf8))
        #expect(try alice.readLine() == "\(b) to \(a) 202004131703 text")
        #expect(try alice.readLine() == "later")
        // The next answer has it.
        let withLater = expected + "\(b) to \(a) 202004131703 text\nlater\n"
        #expect(try alice.ask("\(a) history \(b) all") == "server_data_size\(withLater.utf8.count)")
        try alice.sendLine("ok")
        #expect(try alice.read(count: withLater.utf8.count) == Array(withLater.utf8))
    }

    @Test func clientsThatReadNothingAreDisconnectedWhileOthersChat() throws {
        // 8 MiB for everyone's unread output: a budget tests can fill in seconds, with no
        // message rate slowing the senders that fill it.
        let system = try ChatSystem(settings: ["gateway.max_queued_output_bytes=8388608", "gateway.messages_per_second=0"])
        defer { system.stop(); system.removeData() }
        let gateway = try #require(system.childPID("gateway"))

        // Receivers that sign in from 127.0.0.2 and then never read their socket.
        var silent: [(client: TestClient, uid: String)] = []
        for _ in 0..<4 {
            let uid = TestUIDs.make()
            let client = try TestClient(port: system.port, from: "127.0.0.2")
            try client.signUpAndIn(uid)
            silent.append((client, uid))
        }
        // Two users from 127.0.0.3 who read everything.
        let sender = try TestClient(port: system.port, from: "127.0.0.3"), s = TestUIDs.make()
        try sender.signUpAndIn(s)
        let friend = try TestClient(port: system.port, from: "127.0.0.3"), f = TestUIDs.make()
        try friend.signUpAndIn(f)

        // Texts of 60 KB to the silent ones until the gateway has let every one of them go.
        // The sockets' own buffers take some megabytes each first; the bound is only there so
        // a gateway that never lets go fails the test instead of filling the disk.
        let content = String(repeating: "x", count: 60_000)
        var sentBytes = 0
        let disconnections = { system.log.components(separatedBy: "output budget is spent").count - 1 }
        while disconnections() < silent.count {
            #expect(sentBytes < 400 << 20, "log:\n\(system.log)")
            guard sentBytes < 400 << 20 else { return }
            for (_, uid) in silent { try sender.send("\(s) to \(uid) 202004131702 text\n\(content)\n") }
            for _ in silent { #expect(["ok", "Target user offline"].contains(try sender.readReply(timeout: 30))) }
            sentBytes += silent.count * content.utf8.count

            // Meanwhile the readers chat as usual.
            #expect(try sender.ask("\(s) to \(f) 202004131702 text\nstill here") == "ok")
            #expect(try friend.readLine() == "\(s) to \(f) 202004131702 text")
            #expect(try friend.readLine() == "still here")
            #expect(try friend.ask("\(f) to \(s) 202004131702 text\nme too") == "ok")
            #expect(try sender.readLine() == "\(f) to \(s) 202004131702 text")
            #expect(try sender.readLine() == "me too")
        }

        // What the gateway held for them is bounded by the budget, not by what was sent (about
        // 40 MB here; without the budget, 280 MB by the time the per-connection limit acts).
        let resident = try #require(Self.residentBytes(of: gateway))
        #expect(resident < 128 << 20, "gateway VmRSS \(resident) after \(sentBytes) bytes sent")
        // Each silent client, once it reads, finds its connection closed.
        for (client, _) in silent { #expect(client.isClosedByServer(within: 30)) }
        // Those who read were never touched.
        #expect(try sender.ask("\(s) to \(f) 202004131702 text\nbye") == "ok")
        #expect(try friend.readLine() == "\(s) to \(f) 202004131702 text")
    }
}
