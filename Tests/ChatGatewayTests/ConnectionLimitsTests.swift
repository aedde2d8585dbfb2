@testable import ChatGateway
import NIOCore
import Testing

@Suite struct ConnectionLimitsTests {
    let alice = ClientAddress.ipv4(0x7F00_0002)
    let bob = ClientAddress.ipv4(0x7F00_0003)

    @Test func anAddressPastItsLimitIsRefusedWhileOthersAreAdmitted() {
        var limits = ConnectionLimits(maxConnections: 100, maxUnauthenticatedPerAddress: 2)
        #expect(limits.admit(1, from: alice) == .admitted)
        #expect(limits.admit(2, from: alice) == .admitted)
        #expect(limits.admit(3, from: alice) == .tooManyFromAddress)
        #expect(limits.admit(4, from: bob) == .admitted)
        #expect(limits.openConnections == 3)
        #expect(limits.unauthenticatedConnections(from: alice) == 2)
    }

    @Test func aSignedInConnectionNoLongerCountsAgainstItsAddress() {
        var limits = ConnectionLimits(maxConnections: 100, maxUnauthenticatedPerAddress: 2)
        for id in 1...2 { #expect(limits.admit(UInt64(id), from: alice) == .admitted) }
        limits.authenticated(1)
        limits.authenticated(2)
        #expect(limits.admit(3, from: alice) == .admitted)
        #expect(limits.admit(4, from: alice) == .admitted)
        #expect(limits.admit(5, from: alice) == .tooManyFromAddress)
        #expect(limits.openConnections == 4)
    }

    @Test func signingInTwiceOrClosingAfterSigningInCountsOnce() {
        var limits = ConnectionLimits(maxConnections: 100, maxUnauthenticatedPerAddress: 2)
        _ = limits.admit(1, from: alice)
        _ = limits.admit(2, from: alice)
        limits.authenticated(1)
        limits.authenticated(1)
        limits.closed(1)
        #expect(limits.unauthenticatedConnections(from: alice) == 1)
        #expect(limits.openConnections == 1)
        limits.closed(2)
        #expect(limits.unauthenticatedConnections(from: alice) == 0)
        #expect(limits.openConnections == 0)
    }

    @Test func aClosedConnectionFreesItsPlace() {
        var limits = ConnectionLimits(maxConnections: 100, maxUnauthenticatedPerAddress: 1)
        _ = limits.admit(1, from: alice)
        #expect(limits.admit(2, from: alice) == .tooManyFromAddress)
        limits.closed(1)
        #expect(limits.admit(3, from: alice) == .admitted)
    }

    @Test func theTotalCapCountsSignedInConnectionsToo() {
        var limits = ConnectionLimits(maxConnections: 2, maxUnauthenticatedPerAddress: 10)
        _ = limits.admit(1, from: alice)
        _ = limits.admit(2, from: bob)
        limits.authenticated(1)
        #expect(limits.admit(3, from: .ipv4(9)) == .tooManyInTotal)
        limits.closed(1)
        #expect(limits.admit(4, from: .ipv4(9)) == .admitted)
    }

    @Test func zeroMeansNoLimitPerAddress() {
        var limits = ConnectionLimits(maxConnections: 1000, maxUnauthenticatedPerAddress: 0)
        for id in 1...500 { #expect(limits.admit(UInt64(id), from: alice) == .admitted) }
    }

    @Test func refusalsAreReportedAtOnceThenAtMostOncePerInterval() {
        var limits = ConnectionLimits(maxConnections: 1, maxUnauthenticatedPerAddress: 1)
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        #expect(limits.refusalsToReport(now: start, every: .seconds(60)) == nil)
        _ = limits.admit(1, from: alice)
        _ = limits.admit(2, from: alice)
        #expect(limits.refusalsToReport(now: start, every: .seconds(60)) == .init(tooManyInTotal: 1, tooManyFromAddress: 0))
        _ = limits.admit(3, from: alice)
        _ = limits.admit(4, from: bob)
        #expect(limits.refusalsToReport(now: start + .seconds(59), every: .seconds(60)) == nil)
        #expect(limits.refusalsToReport(now: start + .seconds(60), every: .seconds(60)) == .init(tooManyInTotal: 2, tooManyFromAddress: 0))
        #expect(limits.refusalsToReport(now: start + .seconds(200), every: .seconds(60)) == nil)

        var perAddress = ConnectionLimits(maxConnections: 10, maxUnauthenticatedPerAddress: 1)
        _ = perAddress.admit(1, from: alice)
        _ = perAddress.admit(2, from: alice)
        #expect(perAddress.refusalsToReport(now: start, every: .seconds(60)) == .init(tooManyInTotal: 0, tooManyFromAddress: 1))
    }

    /// A reload: connections open already stay, new ones meet the new limits.
    @Test func changedLimitsApplyToTheNextConnection() {
        var limits = ConnectionLimits(maxConnections: 100, maxUnauthenticatedPerAddress: 3)
        for id in 1...3 { #expect(limits.admit(UInt64(id), from: alice) == .admitted) }
        limits.maxUnauthenticatedPerAddress = 2
        #expect(limits.admit(4, from: alice) == .tooManyFromAddress)
        #expect(limits.unauthenticatedConnections(from: alice) == 3)
        limits.maxUnauthenticatedPerAddress = 0
        #expect(limits.admit(5, from: alice) == .admitted)
        limits.maxConnections = 4
        #expect(limits.admit(6, from: bob) == .tooManyInTotal)
    }
}
