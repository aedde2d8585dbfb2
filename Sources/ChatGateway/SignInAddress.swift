#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// The client address auth counts failed sign-ins by: the IPv4 address, or for IPv6 the /64
/// (one subscriber's network; anyone holding one has all 2^64 of its addresses, so counting
/// them one by one would count nothing). An IPv4-mapped IPv6 address counts as its IPv4.
enum SignInAddress {
    static func key(for address: SocketAddress) -> String? {
        switch address {
        case .v4:
            return address.ipAddress
        case .v6(let v6):
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            guard bytes.count == 16 else { return address.ipAddress }
            if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
                return bytes[12...].map(String.init).joined(separator: ".")
            }
            let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            return groups.joined(separator: ":") + "::/64"
        case .unixDomainSocket:
            return nil
        }
    }
}
