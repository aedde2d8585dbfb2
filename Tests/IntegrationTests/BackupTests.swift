import ChatBenchmark
import ChatTestSupport
import Foundation
import Testing

/// `chatd backup` on a running system, and a second system started on a copy of the backup.
@Suite struct BackupTests {
    @Test func aBackupTakenWhileRunningRestoresHistoryAndFiles() throws {
        let system = try ChatSystem()
        defer { system.stop(); system.removeData() }
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        let texts = ["\(a) to \(b) 202004131702 text\nbefore the backup\n", "\(b) to \(a) 202004131703 text\nand a reply\n"]
        for (client, text) in zip([alice, bob], texts) {
            try client.send(text)
            #expect(try client.readReply() == "ok")
        }
        let file = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        #expect(try alice.upload(from: a, to: b, name: "photo.jpg", bytes: file) == "ok")

        // A pair that keeps chatting while the backup runs: its copy must be a whole prefix.
        let (carol, c) = try system.signedInUser()
        let (dave, d) = try system.signedInUser()
        let destination = FileManager.default.temporaryDirectory.appendingPathComponent("chat-backup-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: destination) }
        let backup = try Self.chatdBackup(into: destination, of: system)
        var sent = 0
        repeat {
            #expect(try carol.ask("\(c) to \(d) 202004131704 text\nbusy \(sent)") == "ok")
            sent += 1
        } while backup.process.isRunning
        #expect(backup.output.ends(within: .seconds(60)) && backup.process.exits(within: .seconds(10)))
        #expect(backup.process.terminationStatus == 0, "\(backup.output.text)")
        #expect(backup.output.text.contains("stored files"), "\(backup.output.text)")
        let busyHistory = try carol.history(me: c, peer: d)
        _ = dave

        // A second backup into the same folder is refused: it never mixes with what is there.
        let again = try Self.chatdBackup(into: destination, of: system)
        #expect(again.output.ends(within: .seconds(60)) && again.process.exits(within: .seconds(10)))
        #expect(again.process.terminationStatus != 0)
        #expect(again.output.text.contains("not an empty folder"), "\(again.output.text)")

        // Restored as the docs say: a copy of the backup as a data folder.
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("chat-restored-\(UUID().uuidString)")
        try NATLab.run(["cp", "-a", destination.path, copy.path])
        let restored = try ChatSystem(dataDirectory: copy)
        defer { restored.stop(); restored.removeData() }
        let alice2 = try TestClient(port: restored.port), bob2 = try TestClient(port: restored.port)
        #expect(try alice2.ask("signin \(a) pw") == "signin successfully")
        #expect(try bob2.ask("signin \(b) pw") == "signin successfully")
        let expected = Array(texts.joined().utf8) + Array("\(a) to \(b) 202004131702 file \(file.count)\nphoto.jpg\n".utf8)
        #expect(try bob2.history(me: b, peer: a) == expected)
        #expect(try bob2.download(me: b, peer: a, name: "photo.jpg") == file)
        let carol2 = try TestClient(port: restored.port)
        #expect(try carol2.ask("signin \(c) pw") == "signin successfully")
        let restoredBusy = try carol2.history(me: c, peer: d)
        #expect(!restoredBusy.isEmpty && busyHistory.starts(with: restoredBusy))
    }

    /// `chatd backup DEST` on `system`'s data folder, started; its output read as it comes.
    static func chatdBackup(into destination: URL, of system: ChatSystem) throws -> (process: Process, output: ChildOutput) {
        let process = Process()
        process.executableURL = ChatSystem.binaries.appendingPathComponent("chatd")
        process.arguments = ["backup", destination.path, "--data-dir", system.dataDirectory.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        return (process, ChildOutput(pipe))
    }
}
