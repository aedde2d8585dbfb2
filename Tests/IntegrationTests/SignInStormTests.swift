import ChatTestSupport
import Foundation
import Testing

/// A storm of sign-ins cannot queue hashing that nobody waits for: past a few hashes auth
/// refuses at once (`Service unavailable`), and sign-ins work again as soon as it passes.
@Suite struct SignInStormTests {
    @Test func aStormIsRefusedAtOnceAndServiceResumes() throws {
        // A hash of a tenth of a second or so, as real costs are, and room for two at a time.
        let system = try ChatSystem(settings: ["auth.scrypt_n=65536", "auth.max_queued_hashes=2"])
        defer { system.stop(); system.removeData() }
        let uid = try system.registeredUser()

        let storm = try (0..<12).map { _ in try TestClient(port: system.port) }
        for client in storm { try client.sendLine("signin \(uid) wrong_password") }
        let replies = try storm.map { try $0.readReply(timeout: 30) }
        let refused = replies.filter { $0 == "Service unavailable" }.count
        #expect(refused >= 6, "replies: \(replies)")
        #expect(replies.allSatisfy { ["Service unavailable", "Wrong Password"].contains($0) }, "replies: \(replies)")
        #expect(system.log.contains("auth busy"), "log:\n\(system.log)")

        // The owner signs in once the storm is over, without waiting out a backlog.
        try waitUntil("the owner to sign in after the storm", timeout: .seconds(10), interval: .milliseconds(100)) {
            (try? TestClient(port: system.port).ask("signin \(uid) pw", timeout: 5)) == "signin successfully"
        }
    }
}
