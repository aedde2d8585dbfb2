import ChatTestSupport
import Foundation
import Testing

/// Per-user limits on the real system: a flood of messages is slowed to the configured rate
/// with nothing lost or doubled, and uploads past the stored-bytes quota are refused before a
/// byte is stored.
@Suite struct UserLimitsTests {
    @Test func aFloodIsSlowedToTheRateAndEveryMessageIsStoredOnce() throws {
        // Four at once, then four a second: 36 texts cannot be through in under 8 s.
        let system = try ChatSystem(settings: ["gateway.messages_per_second=4", "gateway.message_burst=4"])
        defer { system.stop(); system.removeData() }
        let (alice, a) = try system.signedInUser()
        let b = try system.registeredUser()
        let texts = (1...36).map { "flood \($0)" }
        let started = Date()
        try alice.send(texts.map { "\(a) to \(b) 202004131702 text\n\($0)\n" }.joined())

        // Another user, from another address, is not slowed by it.
        Thread.sleep(forTimeInterval: 1)
        let carol = try TestClient(port: system.port, from: "127.0.0.2"), c = TestUIDs.make()
        try carol.signUpAndIn(c)
        let asked = Date()
        #expect(try carol.ask("\(c) to \(b) 202004131702 text\nbystander") == "Target user offline")
        #expect(Date().timeIntervalSince(asked) < 4, "a bystander waited behind the flood")

        for index in texts.indices {
            #expect(try alice.readLine(timeout: 20) == "Target user offline", "reply \(index + 1)")
        }
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed >= 6, "36 texts went through in \(elapsed) s: no rate applied")

        // All of them, in order, exactly once; and the connection still serves commands.
        let history = texts.map { "\(a) to \(b) 202004131702 text\n\($0)\n" }.joined()
        #expect(try alice.ask("\(a) history \(b) all") == "server_data_size\(history.utf8.count)")
        try alice.sendLine("ok")
        #expect(try alice.read(count: history.utf8.count) == Array(history.utf8))
        #expect(try alice.ask("\(a) friends") == "friends")
    }


    /// The sizes of the files storage holds (blobs and uploads in progress), empty ones left out.
    private func storedFileSizes(in system: ChatSystem) -> [Int] {
        let root = system.dataDirectory.appendingPathComponent("files")
        let files = FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String } ?? []
        return files.compactMap { file in
            let attributes = try? FileManager.default.attributesOfItem(atPath: root.appendingPathComponent(file).path)
            guard attributes?[.type] as? FileAttributeType == .typeRegular, let size = attributes?[.size] as? Int, size > 0 else { return nil }
            return size
        }.sorted()
    }

    @Test func uploadsPastTheQuotaAreRefusedAndNothingOfThemIsKept() throws {
        let system = try ChatSystem(settings: ["auth.max_stored_bytes_per_user=1000"])
        defer { system.stop(); system.removeData() }
        let (alice, a) = try system.signedInUser()
        let b = try system.registeredUser()
        #expect(try alice.upload(from: a, to: b, name: "first.bin", bytes: [UInt8](repeating: 1, count: 600), timeout: 30) == "Target user offline")
        // 600 + 401 is past 1000: refused before the go-ahead, so not a byte is sent.
        #expect(try alice.upload(from: a, to: b, name: "refused.bin", bytes: [UInt8](repeating: 2, count: 401), timeout: 30) == "Storage quota exceeded")
        // The connection goes on as before, and what still fits is taken, to the byte.
        #expect(try alice.ask("\(a) to \(b) 202004131702 text\nstill here") == "Target user offline")
        #expect(try alice.upload(from: a, to: b, name: "last.bin", bytes: [UInt8](repeating: 3, count: 400), timeout: 30) == "Target user offline")
        #expect(try alice.upload(from: a, to: b, name: "one more.bin", bytes: [4], timeout: 30) == "Storage quota exceeded")
        // An empty file stores nothing, so it is never refused.
        #expect(try alice.upload(from: a, to: b, name: "empty.bin", bytes: [], timeout: 30) == "Target user offline")

        let history = "\(a) to \(b) 202004131702 file 600\nfirst.bin\n\(a) to \(b) 202004131702 text\nstill here\n"
            + "\(a) to \(b) 202004131702 file 400\nlast.bin\n\(a) to \(b) 202004131702 file 0\nempty.bin\n"
        #expect(try alice.ask("\(a) history \(b) all") == "server_data_size\(history.utf8.count)")
        try alice.sendLine("ok")
        #expect(try alice.read(count: history.utf8.count) == Array(history.utf8))
        #expect(try alice.ask("\(a) history \(b) filename refused.bin") == "No such file")
        #expect(storedFileSizes(in: system) == [400, 600])

        // The quota is each user's own: the recipient may still send.
        let bob = try TestClient(port: system.port)
        #expect(try bob.ask("signin \(b) pw") == "signin successfully")
        #expect(try bob.upload(from: b, to: a, name: "reply.bin", bytes: [UInt8](repeating: 5, count: 1000), timeout: 30) == "ok")
    }

    @Test func anUploadThatFailsGivesItsBytesBack() throws {
        let system = try ChatSystem(settings: ["auth.max_stored_bytes_per_user=1000"])
        defer { system.stop(); system.removeData() }
        let (alice, a) = try system.signedInUser()
        let b = try system.registeredUser()
        // 800 bytes announced, 100 sent, then the client vanishes: the upload fails.
        #expect(try alice.ask("\(a) to \(b) 202004131702 file 800\ncut.bin") == "ok")
        try alice.send([UInt8](repeating: 9, count: 100))
        alice.abort()

        // Its 800 bytes count no more: a new upload of 800 fits (once the release has arrived).
        let again = try TestClient(port: system.port)
        #expect(try again.ask("signin \(a) pw") == "signin successfully")
        var reply = ""
        try waitUntil("the failed upload's bytes to be given back (last reply: \(reply))", timeout: .seconds(15), interval: .milliseconds(200)) {
            reply = try again.upload(from: a, to: b, name: "whole.bin", bytes: [UInt8](repeating: 8, count: 800), timeout: 30)
            return reply != "Storage quota exceeded"
        }
        #expect(reply == "Target user offline")
        #expect(try again.ask("\(a) history \(b) filename cut.bin") == "No such file")
        try waitUntil("the cut upload's 100 bytes to be removed (files: \(storedFileSizes(in: system)))", timeout: .seconds(10)) {
            storedFileSizes(in: system) == [800]
        }
        // And the 800 stored now count: 201 more do not fit.
        #expect(try again.upload(from: a, to: b, name: "more.bin", bytes: [UInt8](repeating: 7, count: 201), timeout: 30) == "Storage quota exceeded")
    }
}
