import ChatTestSupport
import Foundation
import Testing

/// Voice and file messages through the server, byte-exact, through the real processes.
@Suite struct FileTransferTests {
    @Test(arguments: ChatSystem.Backend.allCases, [0, 1, 65_536, 3 * 1_048_576 + 17]) func sizesRoundTripByteExact(_ backend: ChatSystem.Backend, _ size: Int) throws {
        let system = ChatSystem.shared(backend)
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        // Every byte value, newlines and NULs included.
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) }
        #expect(try alice.upload(from: a, to: b, name: "data \(size).bin", bytes: bytes) == "ok")
        #expect(try bob.readLine() == "\(a) to \(b) 202004131702 file \(size)")
        #expect(try bob.readLine() == "data \(size).bin")
        #expect(try bob.download(me: b, peer: a, name: "data \(size).bin") == bytes)
        #expect(try alice.download(me: a, peer: b, name: "data \(size).bin") == bytes)
    }

    @Test(arguments: ChatSystem.Backend.allCases) func voiceMessagesAndHistoryRecords(_ backend: ChatSystem.Backend) throws {
        let system = ChatSystem.shared(backend)
        let (alice, a) = try system.signedInUser()
        let b = try system.registeredUser()
        #expect(try alice.upload(from: a, to: b, kind: "audio", name: "202001010000_audio.ogg", bytes: [1, 2, 3]) == "Target user offline")
        #expect(try alice.ask("\(a) to \(b) 202004131703 text\nand a text") == "Target user offline")
        let expected = "\(a) to \(b) 202004131702 audio 3\n202001010000_audio.ogg\n\(a) to \(b) 202004131703 text\nand a text\n"
        #expect(try alice.ask("\(a) history \(b) all") == "server_data_size\(expected.utf8.count)")
        try alice.sendLine("ok")
        #expect(try alice.read(count: expected.utf8.count) == Array(expected.utf8))
        #expect(try alice.download(me: a, peer: b, name: "202001010000_audio.ogg") == [1, 2, 3])
    }

    @Test(arguments: ChatSystem.Backend.allCases) func namesAlreadyUsedGetNumbered(_ backend: ChatSystem.Backend) throws {
        let system = ChatSystem.shared(backend)
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        for (index, name) in ["a.tar.gz", "a.tar.gz", "a.tar.gz", ".bashrc", ".bashrc", "README", "README"].enumerated() {
            #expect(try alice.upload(from: a, to: b, name: name, bytes: [UInt8(index)]) == "ok")
        }
        let pushedNames = try (0..<7).map { _ -> String in _ = try bob.readLine(); return try bob.readLine() }
        #expect(pushedNames == ["a.tar.gz", "a.tar (2).gz", "a.tar (3).gz", ".bashrc", ".bashrc (2)", "README", "README (2)"])
        #expect(try bob.download(me: b, peer: a, name: "a.tar (3).gz") == [2])
        #expect(try bob.download(me: b, peer: a, name: "README (2)") == [6])
        #expect(try bob.download(me: b, peer: a, name: "a.tar.gz") == [0])
    }

    @Test(arguments: ChatSystem.Backend.allCases) func refusalsComeInTheProtocolsOrder(_ backend: ChatSystem.Backend) throws {
        let system = ChatSystem.shared(backend)
        let (alice, a) = try system.signedInUser()
        let b = try system.registeredUser()
        let stranger = TestUIDs.make()
        let huge = Int64(1) << 31
        #expect(try alice.ask("\(b) to \(a) 202004131702 file 1\nx") == "Permission denied")
        #expect(try alice.ask("\(a) to \(b) 202004131702 file 1x\nx") == "Wrong  interact command")
        #expect(try alice.ask("\(a) to \(b) 202004131702 file 12345678901234567890\nx") == "Wrong  interact command")
        #expect(try alice.ask("\(a) to \(b) 202013131702 file 1\nx") == "Wrong  interact command")
        #expect(try alice.ask("\(a) to \(stranger) 202004131702 file \(huge)\n../bad") == "uid not exits")
        #expect(try alice.ask("\(a) to \(b) 202004131702 file \(huge)\n../bad") == "File too large")
        #expect(try alice.ask("\(a) to \(b) 202004131702 audio 5\nvoice.mp3") == "Invalid file name")
        #expect(try alice.ask("\(a) to \(b) 202004131702 file 1\noffline") == "ok")
        try alice.send([42])
        #expect(try alice.readReply() == "Target user offline")
        #expect(try alice.ask("\(a) history \(b) filename missing.txt") == "No such file")
        #expect(try alice.ask("\(a) history \(stranger) filename offline") == "uid not exits")
    }

    @Test(arguments: ChatSystem.Backend.allCases) func pushesWaitForTheEndOfADownload(_ backend: ChatSystem.Backend) throws {
        let system = ChatSystem.shared(backend)
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        let bytes = (0..<(24 << 20)).map { UInt8(truncatingIfNeeded: $0 * 31) }
        #expect(try bob.upload(from: b, to: a, name: "big.bin", bytes: bytes) == "ok")
        _ = try alice.readLine(); _ = try alice.readLine()
        #expect(try alice.ask("\(a) history \(b) filename big.bin") == "server_data_size\(bytes.count)")
        try alice.sendLine("ok")
        // The download has begun (its first bytes wait at alice's socket); alice reads nothing
        // yet, so it cannot have finished when bob's text arrives.
        try #require(alice.hasData(within: 10), "the download did not begin")
        #expect(try bob.ask("\(b) to \(a) 202004131702 text\nduring the download") == "ok")
        #expect(try alice.read(count: bytes.count, timeout: 60) == bytes)
        #expect(try alice.readLine() == "\(b) to \(a) 202004131702 text")
        #expect(try alice.readLine() == "during the download")
    }

    @Test(arguments: ChatSystem.Backend.allCases) func aSlowReaderGetsExactlyTheFileThenThePush(_ backend: ChatSystem.Backend) throws {
        let system = ChatSystem.shared(backend)
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        let bytes = (0..<(8 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 12) }
        #expect(try bob.upload(from: b, to: a, name: "slow.bin", bytes: bytes) == "ok")
        _ = try alice.readLine(); _ = try alice.readLine()
        #expect(try alice.ask("\(a) history \(b) filename slow.bin") == "server_data_size\(bytes.count)")
        try alice.sendLine("ok")
        #expect(try bob.ask("\(b) to \(a) 202004131702 text\nafter the slow download") == "ok")
        // Read in small bites with pauses, so the socket fills and drains many times over.
        var received: [UInt8] = []
        while received.count < bytes.count {
            received += try alice.read(count: min(256 << 10, bytes.count - received.count), timeout: 30)
            // The slowness under test, not synchronisation.
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(received == bytes)
        #expect(try alice.readLine() == "\(b) to \(a) 202004131702 text")
        #expect(try alice.readLine() == "after the slow download")
        #expect(try alice.ask("\(a) friends") != "")
    }

    @Test(arguments: ChatSystem.Backend.allCases) func pushesWaitForTheEndOfAnUpload(_ backend: ChatSystem.Backend) throws {
        let system = ChatSystem.shared(backend)
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        #expect(try alice.ask("\(a) to \(b) 202004131702 file 1000\nslow.bin") == "ok")
        try alice.send([UInt8](repeating: 1, count: 500))
        #expect(try bob.ask("\(b) to \(a) 202004131702 text\nduring the upload") == "ok")
        // Bounded on purpose: the push must not arrive while the upload is open.
        #expect(alice.staysQuiet(for: 0.3))
        try alice.send([UInt8](repeating: 1, count: 500))
        #expect(try alice.readLine() == "ok")
        #expect(try alice.readLine() == "\(b) to \(a) 202004131702 text")
        #expect(try alice.readLine() == "during the upload")
    }
}

/// Downloads in chunks over the bus, as when the gateway runs on another machine than storage.
@Suite struct ChunkedDownloadTests {
    static let system: ChatSystem = {
        do { return try ChatSystem(settings: ["gateway.send_local_files=false"]) } catch { fatalError("could not start the chat system: \(error)") }
    }()

    @Test(arguments: [1, 3 * 1_048_576 + 17, 24 << 20])
    func bytesArriveWholeWithAPushHeldUntilTheEnd(_ size: Int) throws {
        let (alice, a) = try Self.system.signedInUser()
        let (bob, b) = try Self.system.signedInUser()
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) }
        #expect(try bob.ask("\(b) to \(a) 202004131702 file \(size)\nchunked.bin") == "ok")
        try bob.send(bytes)
        #expect(try bob.readReply(timeout: 60) == "ok")
        _ = try alice.readLine(); _ = try alice.readLine()
        #expect(try alice.ask("\(a) history \(b) filename chunked.bin") == "server_data_size\(size)")
        try alice.sendLine("ok")
        #expect(try bob.ask("\(b) to \(a) 202004131702 text\nduring the download") == "ok")
        #expect(try alice.read(count: size, timeout: 60) == bytes)
        #expect(try alice.readLine() == "\(b) to \(a) 202004131702 text")
        #expect(try alice.readLine() == "during the download")
    }
}

/// Tests that count the files on disk, on a system of their own so no other test's
/// uploads come and go meanwhile.
@Suite(.serialized) struct FileCleanupTests {
    static let system: ChatSystem = {
        do { return try ChatSystem() } catch { fatalError("could not start the chat system: \(error)") }
    }()
    var system: ChatSystem { Self.system }

    /// Every blob and upload in progress under the data folder.
    private func storedFiles() -> [String] {
        let root = system.dataDirectory.appendingPathComponent("files").path
        return (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? [])
            .filter { !$0.hasSuffix("tmp") && $0.split(separator: "/").count >= 2 }
    }

    /// The size of a file `storedFiles` listed, 0 if it is gone.
    private func fileSize(_ stored: String) -> Int {
        let path = system.dataDirectory.appendingPathComponent("files").appendingPathComponent(stored).path
        return ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    @Test(arguments: ["../escape.txt", "..", ".", "a/b", "a\\b", "tab\tname", "\u{7f}", ""])
    func pathTraversalNamesAreRefusedAndNothingIsCreated(_ name: String) throws {
        let (alice, a) = try system.signedInUser()
        let b = try system.registeredUser()
        let before = storedFiles()
        #expect(try alice.ask("\(a) to \(b) 202004131702 file 4\n\(name)") == "Invalid file name")
        // The connection is back to commands: the 4 bytes were never expected.
        #expect(try alice.ask("\(a) friends") == "friends")
        #expect(storedFiles() == before)
    }

    @Test func droppingMidUploadStoresNothing() throws {
        let (alice, a) = try system.signedInUser()
        let b = try system.registeredUser()
        let before = storedFiles()
        #expect(try alice.ask("\(a) to \(b) 202004131702 file 4000000\nhalf.bin") == "ok")
        try alice.send([UInt8](repeating: 7, count: 1_500_000))
        // Mid-upload: storage holds part of it in a file of its own.
        try waitUntil("storage to hold part of the upload (files: \(storedFiles()))", timeout: .seconds(10)) {
            storedFiles().contains { !before.contains($0) && fileSize($0) > 0 }
        }
        alice.abort()
        // Storage discards the partial upload.
        try waitUntil("storage to discard the partial upload (files: \(storedFiles()), before: \(before))", timeout: .seconds(10)) {
            storedFiles() == before
        }
        let again = try TestClient(port: system.port)
        #expect(try again.ask("signin \(a) pw") == "signin successfully")
        #expect(try again.ask("\(a) history \(b) all") == "you two have no history yet")
        #expect(try again.ask("\(a) history \(b) filename half.bin") == "No such file")
    }

}
