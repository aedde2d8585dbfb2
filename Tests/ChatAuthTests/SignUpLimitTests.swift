@testable import ChatAuth
import ChatRuntime
import Testing

/// An address's allowance of accounts, then a refusal for the window.
@Suite struct SignUpLimitTests {
    static let second: UInt64 = 1_000_000_000
    static let hour = 3_600 * second
    static let start: UInt64 = 1_000 * second

    static func limit(perAddress: Int = 3) -> SignUpLimit {
        SignUpLimit(perAddress: perAddress, window: hour, maxAddresses: 1_000)
    }

    @Test func anAddressSignsUpItsAllowanceThenIsRefusedForTheWindow() {
        var limit = Self.limit()
        for index in 0..<2 {
            #expect(limit.wait(address: "203.0.113.1", now: Self.start) == nil, "sign-up \(index)")
            #expect(limit.signedUp(address: "203.0.113.1", now: Self.start) == 0)
        }
        #expect(limit.wait(address: "203.0.113.1", now: Self.start) == nil)
        // The third fills the allowance and starts the wait: the fourth is the first refused.
        #expect(limit.signedUp(address: "203.0.113.1", now: Self.start) == Self.hour)
        #expect(limit.wait(address: "203.0.113.1", now: Self.start) == Self.hour)
        #expect(limit.wait(address: "203.0.113.1", now: Self.start + 10 * Self.second) == Self.hour - 10 * Self.second)
    }

    @Test func anAllowanceOfZeroIsNoLimit() {
        var limit = Self.limit(perAddress: 0)
        for _ in 0..<1_000 {
            #expect(limit.signedUp(address: "203.0.113.1", now: Self.start) == 0)
        }
        #expect(limit.wait(address: "203.0.113.1", now: Self.start) == nil)
        #expect(limit.perAddress.records.isEmpty)
    }

    @Test func otherAddressesAndUnknownOnesAreNotHeldBack() {
        var limit = Self.limit(perAddress: 1)
        limit.signedUp(address: "203.0.113.1", now: Self.start)
        #expect(limit.wait(address: "203.0.113.1", now: Self.start) == Self.hour)
        #expect(limit.wait(address: "203.0.113.2", now: Self.start) == nil)
        #expect(limit.wait(address: "2001:db8:0:0::/64", now: Self.start) == nil)
        // A sign-up whose address was not given is neither counted nor limited.
        #expect(limit.signedUp(address: nil, now: Self.start) == 0)
        #expect(limit.wait(address: nil, now: Self.start) == nil)
        #expect(limit.perAddress.records.count == 1)
    }

    @Test func anAddressStartsAfreshAWindowAfterItsLastSignUp() {
        var limit = Self.limit(perAddress: 2)
        limit.signedUp(address: "203.0.113.1", now: Self.start)
        // A second sign-up half a window later: counted with the first, and the window runs from it.
        let later = Self.start + Self.hour / 2
        #expect(limit.signedUp(address: "203.0.113.1", now: later) == Self.hour)
        #expect(limit.wait(address: "203.0.113.1", now: Self.start + Self.hour) == Self.hour / 2)
        #expect(limit.wait(address: "203.0.113.1", now: later + Self.hour) == nil)
        // Afresh: the whole allowance again.
        #expect(limit.signedUp(address: "203.0.113.1", now: later + Self.hour) == 0)
        #expect(limit.wait(address: "203.0.113.1", now: later + Self.hour) == nil)
    }

    @Test func oneSignUpPerWindowWhenTheAllowanceIsOne() {
        var limit = Self.limit(perAddress: 1)
        #expect(limit.wait(address: "203.0.113.1", now: Self.start) == nil)
        #expect(limit.signedUp(address: "203.0.113.1", now: Self.start) == Self.hour)
        #expect(limit.wait(address: "203.0.113.1", now: Self.start + Self.hour - 1) == 1)
        #expect(limit.wait(address: "203.0.113.1", now: Self.start + Self.hour) == nil)
    }

    /// Sign-ups already being hashed when the allowance fills still count; the wait stays one window.
    @Test func signUpsPastTheAllowanceKeepTheWaitAtTheWindow() {
        var limit = Self.limit(perAddress: 1)
        limit.signedUp(address: "203.0.113.1", now: Self.start)
        #expect(limit.signedUp(address: "203.0.113.1", now: Self.start + Self.second) == Self.hour)
        #expect(limit.wait(address: "203.0.113.1", now: Self.start + Self.second) == Self.hour)
    }

    @Test func readsItsSettings() {
        var configuration = ChatConfiguration()
        configuration.freeSignUpsPerAddress = 2
        configuration.signUpsForgottenAfterSeconds = 60
        configuration.maxTrackedSignInKeys = 500
        let limit = SignUpLimit(configuration)
        #expect(limit.perAddress.policy == FailureCounts.Policy(free: 1, firstDelay: 60 * Self.second, maxDelay: 60 * Self.second,
                                                                forgetAfter: 60 * Self.second, maxKeys: 500))
    }

    @Test func theDefaultsAreTwentyAnHour() {
        let defaults = ChatConfiguration()
        #expect(defaults.freeSignUpsPerAddress == 20 && defaults.signUpsForgottenAfterSeconds == 3_600)
    }
}
