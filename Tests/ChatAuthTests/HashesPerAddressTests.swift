@testable import ChatAuth
import Testing

@Suite struct HashesPerAddressTests {
    @Test func anAddressGetsAtMostItsShareAndOthersTheirsToo() {
        var hashes = HashesPerAddress(limit: 2)
        let own = (0..<3).map { _ in hashes.admit("203.0.113.1") }
        #expect(own == [true, true, false])
        let other = hashes.admit("203.0.113.2")
        #expect(other)
        // Without an address (an older gateway) nothing is limited here.
        let unaddressed = (0..<5).map { _ in hashes.admit(nil) }
        #expect(unaddressed.allSatisfy { $0 })

        hashes.finished("203.0.113.1")
        let again = hashes.admit("203.0.113.1")
        #expect(again)
    }

    @Test func anAddressWithNothingUnderWayIsNotKept() {
        var hashes = HashesPerAddress(limit: 2)
        _ = hashes.admit("203.0.113.1")
        hashes.finished("203.0.113.1")
        hashes.finished("203.0.113.1")
        #expect(hashes.underWay.isEmpty)
    }
}
