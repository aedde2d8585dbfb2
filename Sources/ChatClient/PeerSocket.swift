import ChatProtocol
import Foundation

/// Plain POSIX sockets for peer-to-peer links: every socket bound to the punching port gets
/// SO_REUSEADDR and SO_REUSEPORT (Linux needs both to bind the port again), and each attempt
/// uses a fresh socket.
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
        var target = target
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags) }
        let started = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if started == 0 { return true }
        guard errno == EINPROGRESS else { return false }
        var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&descriptor, 1, Int32(timeout * 1000)) == 1 else { return false }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        return error == 0
    }

    /// Reads one line, a byte at a time so nothing after it is consumed; nil on timeout or close.
    static func readLine(_ fd: Int32, timeout: Double, limit: Int = 4096) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        var line: [UInt8] = []
        while line.count < limit {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0, poll(&descriptor, 1, Int32(remaining * 1000) + 1) == 1 else { return nil }
            var byte: UInt8 = 0
            guard recv(fd, &byte, 1, 0) == 1 else { return nil }
            if byte == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
        return nil
    }

    static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }

    static func send(_ fd: Int32, line: String) -> Bool {
        Array((line + "\n").utf8).withUnsafeBytes { send(fd, $0) }
    }

    static func send(_ fd: Int32, _ line: PeerLinkLine) -> Bool { send(fd, line: line.text) }

    /// The next line if it is a peer-link line; nil on timeout, close, or any other line.
    static func readLinkLine(_ fd: Int32, timeout: Double) -> PeerLinkLine? {
        readLine(fd, timeout: timeout).flatMap { PeerLinkLine(text: $0) }
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
