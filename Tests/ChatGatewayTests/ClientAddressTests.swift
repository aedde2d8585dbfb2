@testable import ChatGateway
import NIOCore
import Testing

@Suite struct ClientAddressTests {
    @Test func ipv4AddressesAreTheirOwnKey() throws {
        let first = ClientAddress(try SocketAddress(ipAddress: "127.0.0.2", port: 4000))
        #expect(first == .ipv4(0x7F00_0002))
        #expect(first == ClientAddress(try SocketAddress(ipAddress: "127.0.0.2", port: 5000)))
        #expect(first != ClientAddress(try SocketAddress(ipAddress: "127.0.0.3", port: 4000)))
    }

    @Test func ipv6AddressesCountPerSlash64() throws {
        let host = ClientAddress(try SocketAddress(ipAddress: "2001:db8:1:2::1", port: 4000))
        #expect(host == .ipv6Prefix(0x2001_0db8_0001_0002))
        #expect(host == ClientAddress(try SocketAddress(ipAddress: "2001:db8:1:2:ffff:1:2:3", port: 4000)))
        #expect(host != ClientAddress(try SocketAddress(ipAddress: "2001:db8:1:3::1", port: 4000)))
    }

    @Test func ipv4SeenAsIPv6IsTheIPv4Address() throws {
        #expect(ClientAddress(try SocketAddress(ipAddress: "::ffff:127.0.0.2", port: 4000)) == .ipv4(0x7F00_0002))
    }

    @Test func noIPAddressSharesOneKey() throws {
        #expect(ClientAddress(nil) == .other)
        #expect(ClientAddress(try SocketAddress(unixDomainSocketPath: "/tmp/x")) == .other)
    }

    /// What a sign-in or sign-up carries to auth for it to be counted by address.
    @Test(arguments: [
        ("203.0.113.9", "203.0.113.9"),
        ("10.0.0.255", "10.0.0.255"),
        ("255.255.255.255", "255.255.255.255"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("ffff:ffff:ffff:ffff::1", "ffff:ffff:ffff:ffff::/64"),
        ("::1", "0:0:0:0::/64"),
        ("::ffff:198.51.100.4", "198.51.100.4"),
    ])
    func keyIsTheIPv4AddressOrTheIPv6Slash64(_ address: String, _ key: String) throws {
        #expect(ClientAddress(try SocketAddress(ipAddress: address, port: 40_000)).key == key)
    }

    @Test func addressesOfOneIPv6NetworkShareAKeyAndOthersDoNot() throws {
        let first = ClientAddress(try SocketAddress(ipAddress: "2001:db8:1:2::5", port: 1)).key
        let sameNetwork = ClientAddress(try SocketAddress(ipAddress: "2001:db8:1:2:ffff::9", port: 2)).key
        let nextNetwork = ClientAddress(try SocketAddress(ipAddress: "2001:db8:1:3::5", port: 1)).key
        #expect(first == sameNetwork)
        #expect(first != nextNetwork)
    }

    /// The longest key fits the bus's bound on an address (`BusMessage.FieldLimits`).
    @Test func theLongestKeyIs24Bytes() {
        #expect(ClientAddress.ipv6Prefix(.max).key?.utf8.count == 24)
        #expect(ClientAddress.ipv4(.max).key?.utf8.count == 15)
    }

    @Test func noIPAddressHasNoKey() throws {
        #expect(ClientAddress(nil).key == nil)
        #expect(ClientAddress(try SocketAddress(unixDomainSocketPath: "/tmp/x")).key == nil)
    }
}
