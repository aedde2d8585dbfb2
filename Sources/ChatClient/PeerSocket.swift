import ChatProtocol
import Foundation

/// Plain POSIX sockets for peer-to-peer links: every socket bound to the punching port gets
/// SO_REUSEADDR and SO_REUSEPORT (Linux needs both to bind the port again), and each attempt
/// uses a fresh socket. Their lines and bytes go through `PlainStream`.
enum PeerSocket {
    /// A TCP socket bound to `port` on every local address, sharing the port.
    static func bound(to port: UInt16) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, toPort: port) else { close(fd); return nil }
        return fd
    }

    /// Binds an IPv4 socket to `port` (0: one the kernel picks) on every local address.
    static func bind(_ fd: Int32, toPort port: UInt16) -> Bool {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(port.bigEndian)
        address.sin_addr.s_addr = INADDR_ANY
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    static func address(_ host: String, _ port: Int) -> sockaddr_in? {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return nil }
        return address
    }

    /// Connects `fd` within `timeout` seconds; false on refusal, timeout or error.
    static func connect(_ fd: Int32, to target: sockaddr_in, timeout: Double) -> Bool {
        withUnsafePointer(to: target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, to: $0, length: socklen_t(MemoryLayout<sockaddr_in>.size), timeout: timeout)
            }
        }
    }

    /// Connects within `timeout` seconds, leaving the socket as blocking as it was; false on
    /// refusal, timeout or error, with errno saying which.
    static func connect(_ fd: Int32, to address: UnsafePointer<sockaddr>, length: socklen_t, timeout: Double) -> Bool {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags) }
        if Glibc.connect(fd, address, length) == 0 { return true }
        guard errno == EINPROGRESS else { return false }
        var ready = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&ready, 1, Int32(timeout * 1000)) == 1 else {
            errno = ETIMEDOUT
            return false
        }
        var error: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size)
        errno = error
        return error == 0
    }

    /// The `host:port` a socket is bound to.
    static func localEndpoint(_ fd: Int32) -> (host: String, port: UInt16)? {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { return nil }
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        inet_ntop(AF_INET, &address.sin_addr, &text, socklen_t(text.count))
        return (String(decoding: text.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self), UInt16(bigEndian: address.sin_port))
    }
}
