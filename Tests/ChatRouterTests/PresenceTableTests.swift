import ChatBus
@testable import ChatRouter
import Testing

@Suite struct PresenceTableTests {
    let gatewayA = Array("gw-a".utf8), gatewayB = Array("gw-b".utf8)

    private func entry(_ uid: String, _ connection: UInt64) -> PresenceEntry {
        PresenceEntry(uid: uid, connection: connection, publicAddress: "198.51.100.1:\(connection)")
    }

    @Test func newestSignInWinsAndDisplacesTheOlder() {
        var table = PresenceTable()
        #expect(table.attach(entry("111111", 1), on: gatewayA) == nil)
        let displaced = table.attach(entry("111111", 2), on: gatewayB)
        #expect(displaced?.entry.connection == 1)
        #expect(displaced?.gateway == gatewayA)
        #expect(table.location(of: "111111")?.entry.connection == 2)
    }

    @Test func reattachingTheSameConnectionDisplacesNobody() {
        var table = PresenceTable()
        _ = table.attach(entry("111111", 1), on: gatewayA)
        #expect(table.attach(entry("111111", 1), on: gatewayA) == nil)
    }

    @Test func aStaleDetachDoesNotLogOutTheNewerSession() {
        var table = PresenceTable()
        _ = table.attach(entry("111111", 1), on: gatewayA)
        _ = table.attach(entry("111111", 2), on: gatewayA)
        table.detach(uid: "111111", connection: 1, on: gatewayA)
        #expect(table.location(of: "111111") != nil)
        table.detach(uid: "111111", connection: 2, on: gatewayB)
        #expect(table.location(of: "111111") != nil)
        table.detach(uid: "111111", connection: 2, on: gatewayA)
        #expect(table.location(of: "111111") == nil)
    }

    @Test func aLostGatewayTakesItsUsersOffline() {
        var table = PresenceTable()
        _ = table.attach(entry("111111", 1), on: gatewayA)
        _ = table.attach(entry("222222", 2), on: gatewayB)
        table.removeGateway(gatewayA)
        #expect(table.location(of: "111111") == nil)
        #expect(table.location(of: "222222") != nil)
    }
}
