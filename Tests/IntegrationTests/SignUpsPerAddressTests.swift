import ChatTestSupport
import Foundation
import Testing

/// Accounts signed up per client address (docs/operations.md, Abuse): past its allowance an
/// address's sign-ups are refused unchecked until it has made none for the window, while other
/// addresses sign up as before. The ChatSystem lifts the allowance for the other suites; these
/// tests set it back.
@Suite struct SignUpsPerAddressTests {
    static let refused = "Too many sign-ups, try again later"

    @Test func signUpsPastTheAllowanceAreRefusedAndOtherAddressesStillSignUp() throws {
        let system = try ChatSystem(settings: ["auth.free_sign_ups_per_address=3"])
        defer { system.stop(); system.removeData() }
        let client = try TestClient(port: system.port, from: "127.0.0.2")
        let allowed = (0..<3).map { _ in TestUIDs.make() }
        for uid in allowed { try client.ask("signup \(uid) pw").ensure("signup successfully") }

        // Past the allowance: refused, from this connection or a new one, a taken uid included
        // (nothing is looked up for a refused address, so it cannot list uids this way either).
        let refusedUid = TestUIDs.make()
        #expect(try client.ask("signup \(refusedUid) pw") == Self.refused)
        #expect(try TestClient(port: system.port, from: "127.0.0.2").ask("signup \(TestUIDs.make()) pw") == Self.refused)
        #expect(try client.ask("signup \(allowed[0]) pw") == Self.refused)
        #expect(system.log.contains("refusing more"), "log:\n\(system.log)")

        // The connection stays in the login phase: its accounts sign in.
        #expect(try client.ask("signin \(allowed[1]) pw") == "signin successfully")
        // Another address signs up as before, and the refused uid was never created.
        let other = try TestClient(port: system.port, from: "127.0.0.3")
        #expect(try other.ask("signin \(refusedUid) pw") == "uid not exits")
        #expect(try other.ask("signup \(refusedUid) pw") == "signup successfully")
    }

    /// Naming taken uids counts as signing up, or sign-up would list uids unthrottled.
    @Test func signUpsOfTakenUidsUseTheAllowanceToo() throws {
        let system = try ChatSystem(settings: ["auth.free_sign_ups_per_address=3"])
        defer { system.stop(); system.removeData() }
        let taken = try system.registeredUser()
        let prober = try TestClient(port: system.port, from: "127.0.0.5")
        for _ in 0..<3 { #expect(try prober.ask("signup \(taken) pw") == "uid already exists") }
        #expect(try prober.ask("signup \(taken) pw") == Self.refused)
        #expect(try prober.ask("signup \(TestUIDs.make()) pw") == Self.refused)
    }

    @Test func anAddressSignsUpAgainOnceTheWindowHasPassed() throws {
        let system = try ChatSystem(settings: ["auth.free_sign_ups_per_address=1", "auth.sign_ups_forgotten_after_seconds=2"])
        defer { system.stop(); system.removeData() }
        let client = try TestClient(port: system.port, from: "127.0.0.4")
        try client.ask("signup \(TestUIDs.make()) pw").ensure("signup successfully")
        #expect(try client.ask("signup \(TestUIDs.make()) pw") == Self.refused)
        // Refusals do not count: two seconds after its last sign-up the address starts afresh.
        let uid = TestUIDs.make()
        try waitUntil("the address to sign up again", timeout: .seconds(10), interval: .milliseconds(500)) {
            try client.ask("signup \(uid) pw") == "signup successfully"
        }
    }
}
