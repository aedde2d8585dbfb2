import Foundation

/// HTTP/1.1 over a new loopback TCP connection, as a scraper or a health checker sends it,
/// read until the server closes: for the tests of the metrics endpoint, no HTTP library.
public enum LoopbackHTTP {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public struct Reply: Sendable {
        public let status: Int
        /// Header names lowercased.
        public let headers: [String: String]
        public let body: String
    }

    /// `GET path`, answered in full within `timeout` seconds.
    public static func get(port: Int, _ path: String, timeout: Double = 10) throws -> Reply {
        try request(port: port, "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", timeout: timeout)
    }

    /// `text` sent as it is; the reply parsed.
    public static func request(port: Int, _ text: String, timeout: Double = 10) throws -> Reply {
        let connection = try connect(port: port, timeout: timeout)
        defer { close(connection) }
        try send(Array(text.utf8), on: connection)
        let bytes = try readToEnd(connection)
        guard let split = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else {
            throw Failure(description: "no complete reply head in \(bytes.count) bytes: \(String(decoding: bytes, as: UTF8.self))")
        }
        let lines = String(decoding: bytes[..<split.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let statusWords = lines[0].split(separator: " ")
        guard statusWords.count >= 2, let status = Int(statusWords[1]) else { throw Failure(description: "bad status line \(lines[0])") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Reply(status: status, headers: headers, body: String(decoding: bytes[split.upperBound...], as: UTF8.self))
    }

    /// A connected socket whose sends and reads give up after `timeout` seconds.
    public static func connect(port: Int, timeout: Double = 10) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let error = errno
            close(descriptor)
            throw Failure(description: "connect to \(port): errno \(error)")
        }
        return descriptor
    }

    /// Sends all of `bytes`; false when the server closed first.
    @discardableResult
    public static func send(_ bytes: [UInt8], on descriptor: Int32) throws -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 && (errno == EPIPE || errno == ECONNRESET) { return false }
            guard written > 0 else { throw Failure(description: "send: errno \(errno)") }
            offset += written
        }
        return true
    }

    /// Everything until the server closes (a reset counts as closing); throws on timeout.
    public static func readToEnd(_ descriptor: Int32) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                bytes += chunk[..<count]
            } else if count == 0 || errno == ECONNRESET {
                return bytes
            } else {
                throw Failure(description: "read: errno \(errno) after \(bytes.count) bytes")
            }
        }
    }
}
