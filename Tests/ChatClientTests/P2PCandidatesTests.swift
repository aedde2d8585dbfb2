import ChatProtocol
@testable import ChatClient
import Testing

@Suite struct P2PCandidatesTests {
    @Test(arguments: [
        "10.0.0.5:40000", "10.255.255.255:1024", "172.16.0.1:50000", "172.31.255.254:65535", "192.168.1.20:40001",
        "169.254.10.1:40000", "127.0.0.1:7000", "127.8.9.10:2000", "198.18.1.10:40000", "198.19.255.1:1024",
        "[fd00::1]:40000", "[fc12:3456::9]:40000", "[fe80::1]:40000", "[febf::1]:40000", "[::1]:40000",
    ])
    func localAddressesOnUnprivilegedPortsAreDialled(_ text: String) throws {
        #expect(P2PCandidates.isAcceptablePrivate(try #require(Endpoint(text))), "\(text)")
    }

    @Test(arguments: [
        // Public, reserved or unspecified addresses.
        "8.8.8.8:40000", "203.0.113.7:40000", "172.15.255.255:40000", "172.32.0.1:40000", "192.167.1.1:40000",
        "169.253.1.1:40000", "11.0.0.1:40000", "0.0.0.0:40000", "255.255.255.255:40000", "100.64.0.1:40000",
        "198.17.255.255:40000", "198.20.0.1:40000", "224.0.0.1:40000",
        "[2001:db8::1]:40000", "[fec0::1]:40000", "[ff02::1]:40000", "[::]:40000", "[::ffff:192.168.1.1]:40000",
        // Local addresses but privileged ports.
        "192.168.1.1:22", "10.0.0.1:80", "127.0.0.1:1023", "[::1]:443", "[fe80::1]:1",
    ])
    func otherEndpointsAreNot(_ text: String) throws {
        #expect(!P2PCandidates.isAcceptablePrivate(try #require(Endpoint(text))), "\(text)")
    }

    @Test func thePublicEndpointIsAlwaysTriedAndAnUnacceptablePrivateOneSkipped() throws {
        let publicEndpoint = try #require(Endpoint("203.0.113.7:40001"))
        #expect(P2PCandidates.dialable(peerPublic: "203.0.113.7:40001", peerPrivate: "192.168.1.20:40001")
                == [publicEndpoint, try #require(Endpoint("192.168.1.20:40001"))])
        #expect(P2PCandidates.dialable(peerPublic: "203.0.113.7:40001", peerPrivate: "198.51.100.9:22") == [publicEndpoint])
        #expect(P2PCandidates.dialable(peerPublic: "203.0.113.7:40001", peerPrivate: "garbage") == [publicEndpoint])
    }
}
