import ChatProtocol
import Foundation

/// Where to dial a peer. The public endpoint is the address the server itself saw the peer's
/// connection come from, so it is always tried. The private endpoint is only what the peer
/// says about itself: taken at its word, it would make this client connect to any host and
/// port the peer names (a port scan, or a request to a service on this network, from here).
/// So it is dialled only if it can be a peer on the same network: a private (RFC 1918),
/// benchmarking (RFC 2544's 198.18.0.0/15: never routed on the internet, used for labs such as
/// the tests' NAT lab), link-local or loopback address, or IPv6
/// unique-local, link-local or loopback, on a port no well-known service uses (1024 and up).
enum P2PCandidates {
    static func dialable(peerPublic: String, peerPrivate: String) -> [Endpoint] {
        var candidates: [Endpoint] = []
        if let endpoint = Endpoint(peerPublic) { candidates.append(endpoint) }
        if let endpoint = Endpoint(peerPrivate), isAcceptablePrivate(endpoint) { candidates.append(endpoint) }
        return candidates
    }

    static func isAcceptablePrivate(_ endpoint: Endpoint) -> Bool {
        guard endpoint.port >= 1024, endpoint.port <= 65535 else { return false }
        if let octets = ipv4Octets(endpoint.host) { return isLocalIPv4(octets) }
        if let bytes = ipv6Bytes(endpoint.host) { return isLocalIPv6(bytes) }
        return false
    }

    private static func isLocalIPv4(_ octets: [UInt8]) -> Bool {
        switch (octets[0], octets[1]) {
        case (10, _): return true // 10.0.0.0/8
        case (172, 16...31): return true // 172.16.0.0/12
        case (192, 168): return true // 192.168.0.0/16
        case (198, 18...19): return true // 198.18.0.0/15, benchmarking
        case (169, 254): return true // link-local
        case (127, _): return true // loopback
        default: return false
        }
    }

    private static func isLocalIPv6(_ bytes: [UInt8]) -> Bool {
        if bytes[0] & 0xfe == 0xfc { return true } // fc00::/7, unique local
        if bytes[0] == 0xfe && bytes[1] & 0xc0 == 0x80 { return true } // fe80::/10, link-local
        return bytes == [UInt8](repeating: 0, count: 15) + [1] // ::1
    }

    private static func ipv4Octets(_ host: String) -> [UInt8]? {
        var address = in_addr()
        guard inet_pton(AF_INET, host, &address) == 1 else { return nil }
        return withUnsafeBytes(of: address.s_addr) { Array($0) }
    }

    private static func ipv6Bytes(_ host: String) -> [UInt8]? {
        var address = in6_addr()
        guard inet_pton(AF_INET6, host, &address) == 1 else { return nil }
        return withUnsafeBytes(of: address) { Array($0) }
    }
}
