import Foundation
import TLSSocket

/// Where the chat server is and how to speak to it: its chat connection and the relay's
/// connections go to the same port, in TLS when `tls` is set.
public struct ServerAddress: Sendable {
    public let host: String
    public let port: Int
    /// What a TLS connection trusts; nil for the plaintext port.
    public let tls: TLSClientContext?

    public init(host: String, port: Int, tls: TLSClientContext? = nil) {
        self.host = host
        self.port = port
        self.tls = tls
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// A new connection to the server, within `timeout` seconds. `ownPort`: bound first to a
    /// local port of its own, shareable, for the chat connection, which peer-to-peer punching
    /// binds again (so that the NAT mapping the server sees for it is the one a peer dials).
    func connect(ownPort: Bool, timeout: Double = 10) throws -> ByteStream {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &results) == 0, let first = results else {
            throw Failure(description: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(results) }
        var reason = "no address"
        var tlsFailure: String?
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            if ownPort {
                var share: Int32 = 1
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &share, socklen_t(MemoryLayout<Int32>.size))
                setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &share, socklen_t(MemoryLayout<Int32>.size))
                // Left to connect, the kernel may give it a local port that other outgoing
                // connections (to other hosts) use too, and punching could not bind it again.
                guard Self.bindToFreePort(fd, family: info.pointee.ai_family) else {
                    reason = String(cString: strerror(errno))
                    close(fd)
                    continue
                }
            }
            guard PeerSocket.connect(fd, to: info.pointee.ai_addr, length: info.pointee.ai_addrlen, timeout: timeout) else {
                reason = String(cString: strerror(errno))
                close(fd)
                continue
            }
            var on: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            guard let tls else { return PlainStream(fd) }
            do {
                return try TLSStream(over: fd, host: host, context: tls)
            } catch let failure as TLSFailure {
                // The next address may be the server proper (a name resolving to several).
                tlsFailure = failure.isCertificateRefused ? failure.description
                    : "\(failure) (is \(host):\(port) the server's TLS port?)"
            }
        }
        throw Failure(description: tlsFailure ?? "cannot connect to \(host):\(port): \(reason)")
    }

    /// Binds `fd` to a local port no other socket uses (port 0 on every address): the kernel
    /// picks such a port for an explicit bind, and keeps other connections' automatic choices
    /// off it afterwards.
    private static func bindToFreePort(_ fd: Int32, family: Int32) -> Bool {
        if family == AF_INET6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_addr = in6addr_any
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0 }
            }
        }
        return PeerSocket.bind(fd, toPort: 0)
    }
}
