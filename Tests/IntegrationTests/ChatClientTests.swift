import Foundation
import Testing

/// The `chat` client driven as a script would drive it, through the real system.
@Suite struct ChatClientTests {
    let system = ChatSystem.shared

    private func runChat(_ script: String, extraArguments: [String] = [], moreToCome: Bool = false) throws -> ScriptedChat {
        try ScriptedChat(["--port", String(system.port)] + extraArguments, script: script, moreToCome: moreToCome)
    }

    private func output(of chat: ScriptedChat) throws -> String { try chat.finish() }

    @Test func twoClientsChat() throws {
        let alice = TestUIDs.make(), bob = TestUIDs.make()
        let bobChat = try runChat("/signup \(bob) bob_pw\n/signin \(bob) bob_pw\n", moreToCome: true)
        // Bob is online (the gateway answers a sign-in once the router has him) before alice writes.
        try bobChat.waitForOutput(containing: ["signin successfully"])
        let aliceOutput = try output(of: try runChat("""
            /signup \(alice) alice_pw
            /signin \(alice) wrong_pw
            /signin \(alice) alice_pw
            /to \(bob) hello bob
            and a second line to the same peer
            /to 12345 nope
            /friend \(bob)
            /friends
            /quit

            """))
        // Bob has been pushed all alice sent before he reads their history and quits.
        try bobChat.waitForOutput(containing: ["] \(alice): hello bob", "] \(alice): and a second line to the same peer",
                                               "\(alice) added you as a friend"])
        try bobChat.send("/history \(alice)\n/quit\n")
        let bobOutput = try output(of: bobChat)

        #expect(aliceOutput.contains("signup successfully"))
        #expect(aliceOutput.contains("Wrong Password"))
        #expect(aliceOutput.contains("signin successfully"))
        #expect(aliceOutput.contains("error: '12345' is not a uid"))
        #expect(aliceOutput.contains("friends \(bob):online"))
        #expect(bobOutput.contains("] \(alice): hello bob"))
        #expect(bobOutput.contains("] \(alice): and a second line to the same peer"))
        #expect(bobOutput.contains("\(alice) added you as a friend"))
        #expect(bobOutput.contains("history with \(alice):"))
        #expect(bobOutput.contains("\(alice) -> \(bob): hello bob"))
    }

    @Test func filesGoThroughTheClient() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chat-client-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let original = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 * 13) }
        let source = folder.appendingPathComponent("photo.jpg")
        try Data(original).write(to: source)
        let voice = folder.appendingPathComponent("note.ogg")
        try Data([9, 9, 9]).write(to: voice)
        let alice = TestUIDs.make(), bob = TestUIDs.make()
        let downloads = folder.appendingPathComponent("downloads")
        let out = try output(of: try runChat("""
            /signup \(alice) pw
            /signup \(bob) pw
            /signin \(alice) pw
            /file \(bob) \(source.path)
            /voice \(bob) \(voice.path)
            /file \(bob) \(folder.path)/missing.bin
            /get \(bob) photo.jpg
            /get \(bob) photo.jpg
            /get \(bob) ../../photo.jpg
            /quit

            """, extraArguments: ["--downloads", downloads.path]))
        #expect(out.components(separatedBy: "Target user offline").count == 3)
        #expect(out.contains("error: cannot read"))
        #expect(out.contains("No such file"))
        #expect(try Data(contentsOf: downloads.appendingPathComponent("photo.jpg")) == Data(original))
        #expect(try Data(contentsOf: downloads.appendingPathComponent("photo (2).jpg")) == Data(original))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["downloads", "note.ogg", "photo.jpg"])
    }

    @Test func commandsNeedASignIn() throws {
        let out = try output(of: try runChat("/to 123456 hi\n/friends\n/quit\n"))
        #expect(out.components(separatedBy: "error: sign in first").count == 3)
    }

    /// `--json`: every line is one JSON object, an event with its kind, the text a person
    /// would read, and its own fields.
    @Test func jsonModePrintsOneObjectPerEvent() throws {
        let (bob, b) = try system.signedInUser()
        let alice = TestUIDs.make()
        let chat = try runChat("/signup \(alice) pw\n/signin \(alice) pw\n/to \(b) hi bob\n", extraArguments: ["--json"], moreToCome: true)
        try chat.waitForOutput(containing: [#""reply":"ok""#])
        #expect(try bob.readLine().hasPrefix("\(alice) to \(b) "))
        #expect(try bob.readLine() == "hi bob")
        try bob.send("\(b) to \(alice) 202612070530 text\nhi \"alice\"\n")
        #expect(try bob.readLine() == "ok")
        try chat.waitForOutput(containing: [#""body":"hi \"alice\"""#])
        try chat.send("/history \(b)\n/get \(b) nothing.bin\n/quit\n")
        let events = try output(of: chat).split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
        }
        #expect(events.allSatisfy { $0["event"] is String && $0["text"] is String })
        #expect(events.contains { $0["event"] as? String == "reply" && $0["reply"] as? String == "signin successfully" })
        let push = try #require(events.first { $0["event"] as? String == "push" })
        #expect(push["from"] as? String == b && push["kind"] as? String == "text" && push["body"] as? String == "hi \"alice\"")
        let history = try #require(events.first { $0["event"] as? String == "history" })
        let records = try #require(history["records"] as? [[String: String]])
        #expect(records.map { $0["body"] } == ["hi bob", "hi \"alice\""])
        #expect(events.contains { $0["event"] as? String == "reply" && $0["reply"] as? String == "No such file" })
        #expect(chat.process.terminationStatus == 1, "the download was refused")
    }
}
