import SQLite
import Testing

/// Every reply of the login phase, through the real processes.
@Suite struct LoginPhaseTests {
    let system = ChatSystem.shared

    @Test func signUpAndSignInReplies() throws {
        let client = try TestClient(port: system.port)
        let uid = TestUIDs.make()
        #expect(try client.ask("signup \(uid) secret_1") == "signup successfully")
        #expect(try client.ask("signup \(uid) other") == "uid already exists")
        #expect(try client.ask("signin \(TestUIDs.make()) secret_1") == "uid not exits")
        #expect(try client.ask("signin \(uid) wrong") == "Wrong Password")
        #expect(try client.ask("signin \(uid) secret_1") == "signin successfully")
    }

    @Test(arguments: ["", "hello", "signup", "signup 12345 pw", "signup 1234567 pw", "signup abcdef pw",
                      "signup 123456 pass-word", "signin 123456", "signin 123456 pw extra", "SIGNIN 123456 pw",
                      "123456 friends"])
    func malformedLoginCommands(_ line: String) throws {
        let client = try TestClient(port: system.port)
        #expect(try client.ask(line) == "Wrong sign command")
        // And the connection is still usable.
        #expect(try client.ask("signin 999998 pw") == "uid not exits")
    }

    @Test func crlfIsAccepted() throws {
        let client = try TestClient(port: system.port)
        try client.send("signup \(TestUIDs.make()) pw\r\n")
        #expect(try client.readLine() == "signup successfully")
    }

    @Test func offlineBeforeSignInClosesWithoutReply() throws {
        let client = try TestClient(port: system.port)
        try client.sendLine("offline")
        #expect(client.isClosedByServer(within: 5))
    }

    @Test func passwordsAreStoredOnlyAsSaltedHashes() throws {
        let client = try TestClient(port: system.port)
        let uid = TestUIDs.make()
        #expect(try client.ask("signup \(uid) VeryDistinctiveWirePassword") == "signup successfully")
        let accounts = try Database(path: system.dataDirectory.appendingPathComponent("auth/accounts.sqlite").path)
        let row = try accounts.prepare("SELECT salt, hash, scrypt_n FROM users WHERE uid = ?").bind(.text(uid))
        #expect(try row.step())
        #expect(row.blob(at: 0).count == 16)
        #expect(row.blob(at: 1).count == 32)
        #expect(row.blob(at: 1) != Array("VeryDistinctiveWirePassword".utf8))
        #expect(row.int(at: 2) == 16)
        let dump = try accounts.prepare("SELECT count(*) FROM users WHERE instr(salt || hash || uid, ?) > 0")
            .bind(.blob(Array("VeryDistinctive".utf8)))
        #expect(try dump.step())
        #expect(dump.int(at: 0) == 0)
    }
}
