import ChatRuntime
@testable import ChatAuth
import Testing

/// Per address and per account, with the owner's known addresses exempt from the account's wait.
@Suite struct SignInThrottleTests {
    static let second: UInt64 = 1_000_000_000
    static let start: UInt64 = 1_000 * second

    static func throttle(freePerAddress: Int = 5, freePerAccount: Int = 10) -> SignInThrottle {
        func policy(_ free: Int) -> FailureCounts.Policy {
            FailureCounts.Policy(free: free, firstDelay: second, maxDelay: 60 * second, forgetAfter: 900 * second, maxKeys: 1_000)
        }
        return SignInThrottle(perAddress: policy(freePerAddress), perAccount: policy(freePerAccount), knownAddressesPerAccount: 2)
    }

    @Test func anAddressPastItsFreeFailuresWaitsWhateverTheAccountOrPassword() {
        var throttle = Self.throttle()
        for _ in 0..<5 { throttle.record(.wrongPassword, account: "111111", address: "203.0.113.1", now: Self.start) }
        #expect(throttle.wait(account: "111111", address: "203.0.113.1", now: Self.start) == nil)
        let started = throttle.record(.wrongPassword, account: "111111", address: "203.0.113.1", now: Self.start)
        #expect(started == Self.second)
        // Every sign-in from it waits, whichever account it names.
        #expect(throttle.wait(account: "222222", address: "203.0.113.1", now: Self.start) == Self.second)
        // Other addresses do not, the account being under its own allowance.
        #expect(throttle.wait(account: "111111", address: "203.0.113.2", now: Self.start) == nil)
    }

    @Test func unknownUidsCountAgainstTheAddressOnly() {
        var throttle = Self.throttle()
        for index in 0..<6 { throttle.record(.unknownUid, account: "90000\(index)", address: "203.0.113.1", now: Self.start) }
        #expect(throttle.wait(account: "900009", address: "203.0.113.1", now: Self.start) == Self.second)
        #expect(throttle.perAccount.records.isEmpty)
    }

    @Test func anAccountPastItsFreeFailuresWaitsFromAnyNewAddress() {
        var throttle = Self.throttle()
        for index in 0..<11 { throttle.record(.wrongPassword, account: "111111", address: "198.51.100.\(index)", now: Self.start) }
        #expect(throttle.wait(account: "111111", address: "198.51.100.99", now: Self.start) == Self.second)
        #expect(throttle.wait(account: "111111", address: nil, now: Self.start) == Self.second)
        #expect(throttle.wait(account: "222222", address: "198.51.100.99", now: Self.start) == nil)
    }

    @Test func theOwnerSigningInFromAKnownAddressIsNotLockedOutByOthersGuesses() {
        var throttle = Self.throttle()
        throttle.record(.signedIn, account: "111111", address: "192.0.2.7", now: Self.start)
        for index in 0..<30 { throttle.record(.wrongPassword, account: "111111", address: "198.51.100.\(index)", now: Self.start) }
        #expect(throttle.wait(account: "111111", address: "198.51.100.99", now: Self.start) != nil)
        #expect(throttle.wait(account: "111111", address: "192.0.2.7", now: Self.start) == nil)
        // Her own sign-in forgets the account's failures: everyone may try again.
        throttle.record(.signedIn, account: "111111", address: "192.0.2.7", now: Self.start)
        #expect(throttle.wait(account: "111111", address: "198.51.100.99", now: Self.start) == nil)
    }

    @Test func aKnownAddressStillWaitsForItsOwnFailures() {
        var throttle = Self.throttle()
        throttle.record(.signedIn, account: "111111", address: "192.0.2.7", now: Self.start)
        for _ in 0..<6 { throttle.record(.wrongPassword, account: "222222", address: "192.0.2.7", now: Self.start) }
        #expect(throttle.wait(account: "111111", address: "192.0.2.7", now: Self.start) == Self.second)
    }

    @Test func signingInToAnAccountOfItsOwnDoesNotClearAnAddressFailures() {
        var throttle = Self.throttle()
        for _ in 0..<6 { throttle.record(.wrongPassword, account: "111111", address: "203.0.113.1", now: Self.start) }
        throttle.record(.signedIn, account: "333333", address: "203.0.113.1", now: Self.start + 2 * Self.second)
        let started = throttle.record(.wrongPassword, account: "111111", address: "203.0.113.1", now: Self.start + 2 * Self.second)
        #expect(started == 2 * Self.second)
    }

    @Test func onlyTheLastFewAddressesOfAnAccountAreKnown() {
        var throttle = Self.throttle()
        for index in 1...3 { throttle.record(.signedIn, account: "111111", address: "192.0.2.\(index)", now: Self.start + UInt64(index)) }
        for index in 0..<11 { throttle.record(.wrongPassword, account: "111111", address: "198.51.100.\(index)", now: Self.start) }
        #expect(throttle.wait(account: "111111", address: "192.0.2.1", now: Self.start) != nil)
        #expect(throttle.wait(account: "111111", address: "192.0.2.2", now: Self.start) == nil)
        #expect(throttle.wait(account: "111111", address: "192.0.2.3", now: Self.start) == nil)
    }

    @Test func theServiceIsNormalOnceTheWaitsRunOut() {
        var throttle = Self.throttle()
        var now = Self.start
        for _ in 0..<20 { throttle.record(.wrongPassword, account: "111111", address: "203.0.113.1", now: now) }
        #expect(throttle.wait(account: "111111", address: "203.0.113.1", now: now) == 60 * Self.second)
        now += 60 * Self.second
        #expect(throttle.wait(account: "111111", address: "203.0.113.1", now: now) == nil)
    }

    /// A reload: failures counted so far stay and are judged by the new allowance; how many
    /// keys are remembered does not change (that needs a restart).
    @Test func aNewPolicyKeepsTheFailuresCounted() {
        var throttle = Self.throttle(freePerAddress: 5)
        for _ in 0..<3 { throttle.record(.wrongPassword, account: "111111", address: "203.0.113.1", now: Self.start) }
        #expect(throttle.wait(account: "111111", address: "203.0.113.1", now: Self.start) == nil)

        var configuration = ChatConfiguration()
        configuration.freeFailedSignInsPerAddress = 2
        configuration.firstSignInDelayMilliseconds = 3_000
        configuration.maxTrackedSignInKeys = 50_000
        throttle.adopt(configuration)

        #expect(throttle.wait(account: "111111", address: "203.0.113.1", now: Self.start) == 3 * Self.second)
        #expect(throttle.perAddress.policy.maxKeys == 1_000)
    }
}
