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
}
