import ChatProtocol
import Foundation
import TLSSocket

/// A blocking TCP socket for the file benchmark: lines, raw bytes, no frills; TLS over it
/// when given a certificate to trust.
final class BlockingSocket {
    struct Failure: Error, CustomStringConvertible { let description: String }

    let descriptor: Int32
    private var buffer: [UInt8] = []
    private var tls: TLSConnection?

    /// `source` is the local address to connect from (127.0.0.2, ...: limits kept per client
    /// address see another client); `receiveTimeout` bounds each read, in seconds (0: none; a
    /// TLS socket's reads wait as long as it takes). `tlsTrust`: speak TLS, trusting that
    /// certificate (PEM file) for `host`.
    convenience init(port: Int, host: String = "127.0.0.1", from source: String? = nil, receiveTimeout: Double = 0, tlsTrust: String? = nil) throws {
        let descriptor = try Self.openSocket(from: source)
        guard Self.connect(descriptor, host: host, port: port) == 0 else {
            close(descriptor)
            throw Failure(description: "cannot connect to \(host):\(port)")
        }
        try self.init(connected: descriptor, host: host, receiveTimeout: receiveTimeout, tlsTrust: tlsTrust)
    }

    /// Takes over `descriptor`, a connection to `host` (blocking), and closes it when done.
    init(connected descriptor: Int32, host: String, receiveTimeout: Double, tlsTrust: String?) throws {
        self.descriptor = descriptor
        if receiveTimeout > 0 {
            var limit = timeval(tv_sec: Int(receiveTimeout), tv_usec: Int((receiveTimeout - receiveTimeout.rounded(.down)) * 1_000_000))
            setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        }
        if let tlsTrust {
            tls = try TLSConnection(over: descriptor, serverName: host, context: TLSClientContext(caFile: tlsTrust), timeout: .seconds(10))
        }
    }

    /// A TCP socket, bound to `source` when given.
    static func openSocket(from source: String?) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "no socket: errno \(errno)") }
        guard let source else { return descriptor }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr(source)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard bound else {
            close(descriptor)
            throw Failure(description: "cannot bind to \(source)")
        }
        return descriptor
    }

    /// `connect(2)` to `host:port` (IPv4): 0, or -1 with `errno` set.
    static func connect(_ descriptor: Int32, host: String, port: Int) -> Int32 {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    /// Whether the server has closed its side (a FIN arrived), whatever is still unread.
    var isClosedByPeer: Bool {
        var info = tcp_info()
        var size = socklen_t(MemoryLayout<tcp_info>.size)
        guard getsockopt(descriptor, Int32(IPPROTO_TCP), TCP_INFO, &info, &size) == 0 else { return true }
        return Int32(info.tcpi_state) != Int32(TCP_ESTABLISHED)
    }

    init(descriptor: Int32) { self.descriptor = descriptor }

    deinit { close(descriptor) }

    func send(_ bytes: UnsafeRawBufferPointer) throws {
        if let tls {
            guard tls.write(bytes) else { throw Failure(description: "send failed") }
            return
        }
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.send(descriptor, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw Failure(description: "send failed") }
            offset += written
        }
    }

    func send(_ text: String) throws {
        try Array(text.utf8).withUnsafeBytes { try send($0) }
    }

    func readLine() throws -> String {
        while true {
            if let end = buffer.firstIndex(of: 10) {
                defer { buffer.removeFirst(end + 1) }
                return String(decoding: buffer[..<end], as: UTF8.self)
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { receive(into: $0) }
            guard count > 0 else { throw Failure(description: "connection closed") }
            buffer.append(contentsOf: chunk[..<count])
        }
    }

    func send(_ command: ClientCommand) throws {
        try command.bytes.withUnsafeBytes { try send($0) }
    }

    /// Sends `command` and reads the reply line; nil when that line is no reply at all.
    func ask(_ command: ClientCommand) throws -> ServerReply? {
        try send(command)
        return ServerReply(text: try readLine())
    }

    /// Reads and drops exactly `count` bytes (after anything buffered).
    func drain(_ count: Int64, into scratch: UnsafeMutableRawBufferPointer) throws {
        var left = count
        let buffered = min(Int64(buffer.count), left)
        buffer.removeFirst(Int(buffered))
        left -= buffered
        while left > 0 {
            let received = receive(into: UnsafeMutableRawBufferPointer(rebasing: scratch[..<Int(min(Int64(scratch.count), left))]))
            guard received > 0 else { throw Failure(description: "connection closed with \(left) bytes to go") }
            left -= Int64(received)
        }
    }

    /// What arrives next, up to `buffer.count` bytes; 0 or less when the connection ended
    /// (or, plain, its receive timeout passed).
    private func receive(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        if let tls { return tls.read(into: buffer) ?? 0 }
        while true {
            let received = recv(descriptor, buffer.baseAddress, buffer.count, 0)
            if received < 0 && errno == EINTR { continue }
            return received
        }
    }
}
