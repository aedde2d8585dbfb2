import NIOCore

/// Whom a per-address limit counts a connection against: an IPv4 address, or an IPv6 /64
/// (the block one site is given, so a host cannot dodge the limit by changing its low bits).
/// An IPv4 address seen as IPv6 (`::ffff:a.b.c.d`, on a dual-stack socket) is that IPv4 address.
enum ClientAddress: Hashable, Sendable {
    case ipv4(UInt32)
    case ipv6Prefix(UInt64)
    /// No IP address (a Unix socket): all such connections share one count.
    case other

    init(_ address: SocketAddress?) {
        switch address {
        case .v4(let v4)?:
            self = .ipv4(UInt32(bigEndian: v4.address.sin_addr.s_addr))
        case .v6(let v6)?:
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            let mappedIPv4Prefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]
            if bytes.prefix(12).elementsEqual(mappedIPv4Prefix) {
                self = .ipv4(bytes[12...].reduce(0) { $0 << 8 | UInt32($1) })
            } else {
                self = .ipv6Prefix(bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) })
            }
        default:
            self = .other
        }
    }
}
