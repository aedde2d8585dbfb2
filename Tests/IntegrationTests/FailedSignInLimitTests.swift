import ChatTestSupport
import Foundation
import Synchronization
import Testing

/// Failed sign-ins are counted per client address and per account (docs/operations.md, Abuse):
/// a storm from one address leaves everyone else signing in, and guesses at an account from
/// elsewhere do not lock out its owner. The ChatSystem lifts the per-address limits for the
/// other suites; these tests set them back.
@Suite struct FailedSignInLimitTests {
    static let throttled = "Too many failed sign-ins, try again later"
    /// Auth's own defaults per address. The gateway's cap on connections not signed in per
    /// address is lifted: these storms must reach auth to show what auth does with them.
    static let perAddressDefaults = ["auth.max_hashes_per_address=4", "auth.free_failed_sign_ins_per_address=5",
                                     "gateway.max_unauthenticated_per_address=0"]

    @Test func aStormFromOneAddressLeavesOtherAddressesSigningIn() throws {
        // Real hashing cost (a tenth of a second or so), so a storm would hold the queue, and a
        // short cap on the wait, so the attacker's own address recovers within the test.
        let system = try ChatSystem(settings: ["auth.scrypt_n=65536", "auth.max_sign_in_delay_seconds=2"] + Self.perAddressDefaults)
        defer { system.stop(); system.removeData() }
        let bystander = TestUIDs.make(), attackersOwn = TestUIDs.make()
        try TestClient(port: system.port, from: "127.0.0.3").ask("signup \(bystander) pw").ensure("signup successfully")
        try TestClient(port: system.port, from: "127.0.0.2").ask("signup \(attackersOwn) pw").ensure("signup successfully")

        // 40 connections from 127.0.0.2, each sending a wrong password for an account of its own
        // (so no one account's limit stops the storm) or a made-up uid as soon as its last one is
        // answered, for 5 seconds.
        let attackers = try (0..<40).map { _ in try TestClient(port: system.port, from: "127.0.0.2") }
        let targets = attackers.map { _ in TestUIDs.make() }
        for batch in stride(from: 0, to: attackers.count, by: 4) {
            // As many at a time as one address may have hashed (auth.max_hashes_per_address).
            let range = batch..<min(batch + 4, attackers.count)
            for index in range { try attackers[index].sendLine("signup \(targets[index]) pw") }
            for index in range { try attackers[index].readReply(timeout: 30).ensure("signup successfully") }
        }

        // Others sign in from other addresses while the storm goes on, each within a couple of
        // seconds.
        let others = Mutex<[(source: String, reply: String, took: Duration)]>([])
        let othersDone = DispatchSemaphore(value: 0)
        Thread { [port = system.port] in
            Thread.sleep(forTimeInterval: 1)
            for (source, uid) in [("127.0.0.3", bystander), ("127.0.0.4", bystander), ("127.0.0.5", bystander), ("127.0.0.6", bystander)] {
                let started = ContinuousClock.now
                let reply = (try? TestClient(port: port, from: source).ask("signin \(uid) pw", timeout: 5)) ?? "(no reply)"
                others.withLock { $0.append((source, reply, ContinuousClock.now - started)) }
            }
            othersDone.signal()
        }.start()

        var seen: [String: Int] = [:]
        let end = Date().addingTimeInterval(5)
        var round = 0
        while Date() < end {
            for (index, client) in attackers.enumerated() {
                try client.sendLine("signin \((index + round) % 2 == 0 ? targets[index] : TestUIDs.make()) wrong_password")
            }
            for client in attackers { seen[try client.readReply(timeout: 15), default: 0] += 1 }
            round += 1
        }
        try othersDone.wait(for: "the other sign-ins", timeout: .seconds(30))
        for other in others.withLock({ $0 }) {
            #expect(other.reply == "signin successfully", "from \(other.source)")
            #expect(other.took < .seconds(3), "from \(other.source)")
        }
        #expect(others.withLock { $0.count } == 4)

        // The attacker was told so quickly, and only a handful of its guesses were ever hashed
        // or looked up: past its free failures and its share of hashes, it got refusals.
        let checked = seen["Wrong Password", default: 0] + seen["uid not exits", default: 0]
        #expect(seen[Self.throttled, default: 0] > 100, "replies: \(seen)")
        #expect(checked <= 20, "replies: \(seen)")
        #expect(Set(seen.keys).isSubset(of: ["Wrong Password", "uid not exits", "Service unavailable", Self.throttled]), "replies: \(seen)")
        #expect(system.log.contains("throttling"), "log:\n\(system.log)")
        // Each failure that was checked names its uid and address; refused ones are not logged.
        let failureLines = system.log.split(separator: "\n").filter { $0.contains("auth: sign-in failed") }
        #expect(failureLines.count >= checked && failureLines.count <= 60, "log:\n\(system.log)")
        #expect(failureLines.allSatisfy { $0.contains("auth.address=127.0.0.2") }, "log:\n\(system.log)")

        // Once it stops: another address signs in at once, the attacker's own within the cap.
        #expect(try TestClient(port: system.port, from: "127.0.0.7").ask("signin \(bystander) pw", timeout: 5) == "signin successfully")
        try waitUntil("the attacker's address to sign in again", timeout: .seconds(10), interval: .milliseconds(500)) {
            try TestClient(port: system.port, from: "127.0.0.2").ask("signin \(attackersOwn) pw", timeout: 5) == "signin successfully"
        }
    }

    @Test func aSignUpStormFromOneAddressTakesOnlyItsShareOfHashing() throws {
        // A long bus timeout, so that hashes queued behind the storm are waited for, not skipped.
        let system = try ChatSystem(settings: ["auth.scrypt_n=65536", "bus.request_timeout_ms=10000"] + Self.perAddressDefaults)
        defer { system.stop(); system.removeData() }
        let bystander = TestUIDs.make()
        try TestClient(port: system.port, from: "127.0.0.3").ask("signup \(bystander) pw").ensure("signup successfully")

        // 100 connections from 127.0.0.2 signing up new uids, each as soon as its last is answered.
        let others = Mutex<[(reply: String, took: Duration)]>([])
        let othersDone = DispatchSemaphore(value: 0)
        Thread { [port = system.port] in
            Thread.sleep(forTimeInterval: 1)
            for source in ["127.0.0.3", "127.0.0.4", "127.0.0.5"] {
                let started = ContinuousClock.now
                let reply = (try? TestClient(port: port, from: source).ask("signin \(bystander) pw", timeout: 5)) ?? "(no reply)"
                others.withLock { $0.append((reply, ContinuousClock.now - started)) }
            }
            othersDone.signal()
        }.start()
        let stormers = try (0..<100).map { _ in try TestClient(port: system.port, from: "127.0.0.2") }
        var seen: [String: Int] = [:]
        let end = Date().addingTimeInterval(4)
        while Date() < end {
            for client in stormers { try client.sendLine("signup \(TestUIDs.make()) pw") }
            for client in stormers { seen[try client.readReply(timeout: 15), default: 0] += 1 }
        }
        try othersDone.wait(for: "the other sign-ins", timeout: .seconds(30))

        // Others signed in meanwhile, within a couple of seconds each; the storm was refused its excess.
        let answered = others.withLock { $0 }
        #expect(answered.count == 3 && answered.allSatisfy { $0.reply == "signin successfully" && $0.took < .seconds(3) }, "\(answered)")
        #expect(seen["Service unavailable", default: 0] > 0, "replies: \(seen)")
    }

    @Test func guessesAtAnAccountDoNotLockOutItsOwnerFromHerAddress() throws {
        // One attacking address, allowed to fail often itself, against an account allowed three.
        let system = try ChatSystem(settings: ["auth.max_hashes_per_address=4", "auth.free_failed_sign_ins_per_address=1000",
                                               "auth.free_failed_sign_ins_per_account=3"])
        defer { system.stop(); system.removeData() }
        let owner = TestUIDs.make()
        try TestClient(port: system.port, from: "127.0.0.3").signUpAndIn(owner)

        let attacker = try TestClient(port: system.port, from: "127.0.0.2")
        let guesses = try (0..<10).map { _ in try attacker.ask("signin \(owner) guess") }
        #expect(guesses.prefix(4).allSatisfy { $0 == "Wrong Password" }, "replies: \(guesses)")
        #expect(guesses.dropFirst(4).allSatisfy { $0 == Self.throttled }, "replies: \(guesses)")

        // A new address is refused even with the right password, which it is not told is right...
        #expect(try TestClient(port: system.port, from: "127.0.0.4").ask("signin \(owner) pw") == Self.throttled)
        // ...but the owner, from where she signed in before, is not.
        #expect(try TestClient(port: system.port, from: "127.0.0.3").ask("signin \(owner) pw") == "signin successfully")
        // Her sign-in forgets the account's failures: the new address may sign in now.
        #expect(try TestClient(port: system.port, from: "127.0.0.4").ask("signin \(owner) pw") == "signin successfully")
    }

    @Test func listingUidsFromOneAddressIsSlowedLikeGuessingPasswords() throws {
        let system = try ChatSystem(settings: Self.perAddressDefaults + ["auth.max_sign_in_delay_seconds=60"])
        defer { system.stop(); system.removeData() }
        let known = try system.registeredUser()
        let lister = try TestClient(port: system.port, from: "127.0.0.5")
        let replies = try (0..<20).map { _ in try lister.ask("signin \(TestUIDs.make()) pw") }
        #expect(replies.prefix(6).allSatisfy { $0 == "uid not exits" }, "replies: \(replies)")
        #expect(replies.dropFirst(6).allSatisfy { $0 == Self.throttled }, "replies: \(replies)")
        // Existing and made-up uids now read the same from there, and another address is unaffected.
        #expect(try lister.ask("signin \(known) pw") == Self.throttled)
        #expect(try TestClient(port: system.port, from: "127.0.0.6").ask("signin \(known) pw") == "signin successfully")
    }
}
