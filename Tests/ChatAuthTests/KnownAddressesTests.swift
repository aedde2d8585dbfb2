@testable import ChatAuth
import Testing

@Suite struct KnownAddressesTests {
    @Test func anAccountKeepsItsLatestAddressesOnly() {
        var known = KnownAddresses(perAccount: 2, maxAccounts: 100)
        known.signedIn("111111", from: "192.0.2.1", now: 1)
        known.signedIn("111111", from: "192.0.2.2", now: 2)
        known.signedIn("111111", from: "192.0.2.1", now: 3) // seen again: the latest now
        known.signedIn("111111", from: "192.0.2.3", now: 4)
        #expect(known.isKnown("192.0.2.1", for: "111111"))
        #expect(!known.isKnown("192.0.2.2", for: "111111"))
        #expect(known.isKnown("192.0.2.3", for: "111111"))
        #expect(!known.isKnown("192.0.2.3", for: "222222"))
    }

    @Test func manyAccountsAreBoundedAndTheLongestUnseenGoFirst() {
        var known = KnownAddresses(perAccount: 2, maxAccounts: 100)
        for index in 0..<1_000 { known.signedIn(String(100_000 + index), from: "192.0.2.1", now: UInt64(index)) }
        #expect(known.addresses.count <= 100)
        #expect(known.isKnown("192.0.2.1", for: "100999"))
        #expect(!known.isKnown("192.0.2.1", for: "100000"))
    }

    @Test func noneAreKeptWhenTurnedOff() {
        var known = KnownAddresses(perAccount: 0, maxAccounts: 100)
        known.signedIn("111111", from: "192.0.2.1", now: 1)
        #expect(!known.isKnown("192.0.2.1", for: "111111"))
    }
}
