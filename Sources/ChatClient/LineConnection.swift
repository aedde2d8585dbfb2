import ChatProtocol
import Foundation

/// A blocking TCP connection that reads lines and counted raw bytes. One thread reads;
/// writes from any thread are serialised.
///
/// Unchecked: `buffer`, the only mutable field, belongs to the one reading thread (the
/// session's reader); writes only use the immutable descriptor, under `writeLock`.
final class LineConnection: @unchecked Sendable {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private let writeLock = NSLock()

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(host: String, port: Int) throws {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &results) == 0, let first = results else {
            throw Failure(description: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(results) }
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if fd >= 0 {
                // Shareable port: peer-to-peer punching binds it again, so that the NAT mapping
                // the server sees for this connection is the one the peer dials.
                var share: Int32 = 1
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &share, socklen_t(MemoryLayout<Int32>.size))
                setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &share, socklen_t(MemoryLayout<Int32>.size))
                // Bound before connecting, to a port of its own: left to connect, the kernel may
                // give it a local port that other outgoing connections (to other hosts) use too,
                // and punching could not bind that port again.
                if Self.bindToFreePort(fd, family: info.pointee.ai_family),
                   connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                    var on: Int32 = 1
                    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
                    descriptor = fd
                    return
                }
                close(fd)
            }
            candidate = info.pointee.ai_next
        }
        throw Failure(description: "cannot connect to \(host):\(port): \(String(cString: strerror(errno)))")
    }

    deinit { close(descriptor) }

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

    /// Where this connection is bound on the local network.
    var localEndpoint: (host: String, port: UInt16)? { PeerSocket.localEndpoint(descriptor) }

    func send(_ bytes: [UInt8]) throws {
        writeLock.lock()
        defer { writeLock.unlock() }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "connection lost")
            }
            offset += written
        }
    }

    func send(_ command: ClientCommand) throws { try send(command.bytes) }

    /// The next line without its ending; nil when the server closed the connection.
    func readLine() -> String? {
        while true {
            if let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(buffer[..<end])
                buffer.removeFirst(end + 1)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard fill() else { return nil }
        }
    }

    /// Exactly `count` bytes; nil if the connection closed first.
    func read(count: Int) -> [UInt8]? {
        while buffer.count < count {
            guard fill() else { return nil }
        }
        defer { buffer.removeFirst(count) }
        return Array(buffer[..<count])
    }

    /// Up to `limit` raw bytes, whatever is buffered first; nil if the connection closed.
    func readSome(upTo limit: Int) -> [UInt8]? {
        if buffer.isEmpty && !fill() { return nil }
        let count = min(limit, buffer.count)
        defer { buffer.removeFirst(count) }
        return Array(buffer[..<count])
    }

    func shutdown() { _ = Glibc.shutdown(descriptor, Int32(SHUT_RDWR)) }

    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let received = recv(descriptor, &chunk, chunk.count, 0)
            if received > 0 {
                buffer.append(contentsOf: chunk[..<received])
                return true
            }
            if received < 0 && errno == EINTR { continue }
            return false
        }
    }
}
