import NIOCore

/// Whom a per-address limit counts a client against: an IPv4 address, or an IPv6 /64 (the
/// block one site is given: anyone holding one has all 2^64 of its addresses, so counting them
/// one by one would count nothing). An IPv4 address seen as IPv6 (`::ffff:a.b.c.d`, on a
/// dual-stack socket) is that IPv4 address. The gateway's connection limits count by it, and
/// auth counts sign-ins and sign-ups by its `key`.
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

    /// How the address travels to auth (`signInFrom`, `signUpFrom`): the IPv4 address dotted
    /// (`203.0.113.9`), or the /64's four groups in hex without leading zeros and `::/64`
    /// (`2001:db8:0:0::/64`, at most 24 bytes). Nil for `other`: such clients are not counted
    /// per address. One auth counts for every gateway, so all must spell it alike.
    var key: String? {
        switch self {
        case .ipv4(let address):
            return stride(from: 24, through: 0, by: -8).map { String(address >> UInt32($0) & 0xFF) }.joined(separator: ".")
        case .ipv6Prefix(let prefix):
            return stride(from: 48, through: 0, by: -16).map { String(prefix >> UInt64($0) & 0xFFFF, radix: 16) }
                .joined(separator: ":") + "::/64"
        case .other:
            return nil
        }
    }
}
