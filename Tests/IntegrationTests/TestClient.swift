import Foundation

/// A raw TCP client speaking the protocol byte by byte, with timeouts, as a test needs.
final class TestClient {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private let descriptor: Int32
    private var buffer: [UInt8] = []

    /// `sendTimeout` bounds how long connecting, and a send that makes no progress, may block
    /// (a server that stops reading fails the test rather than hanging it). `source` is the
    /// loopback address to connect from (127.0.0.2, 127.0.0.3, ...): limits kept per client
    /// address see distinct clients; nil lets the kernel choose (for a `host` off loopback).
    init(port: Int, host: String = "127.0.0.1", sendTimeout: Double = 30, from source: String? = "127.0.0.1") throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var limit = timeval(tv_sec: Int(sendTimeout), tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            // Thrown with every property set: deinit closes the descriptor (closing it here too
            // could close another thread's newer descriptor of the same number).
            guard bound == 0 else { throw Failure(description: "bind to \(source) failed: errno \(errno)") }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw Failure(description: "connect to \(port) failed: errno \(errno)") }
    }

    deinit { close(descriptor) }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else {
                throw Failure(description: errno == EAGAIN ? "send timed out: the server read nothing for a while" : "send failed: errno \(errno)")
            }
            offset += written
        }
    }

    /// Sends `line` and `\n`.
    func sendLine(_ line: String) throws { try send(line + "\n") }

    /// The next line, without `\n`; throws on timeout or when the server closed.
    func readLine(timeout: Double = 10) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let end = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + 1)
                return line
            }
            try fill(until: deadline)
        }
    }

    func read(count: Int, timeout: Double = 20) throws -> [UInt8] {
        let deadline = Date().addingTimeInterval(timeout)
        while buffer.count < count { try fill(until: deadline) }
        defer { buffer.removeFirst(count) }
        return Array(buffer[..<count])
    }

    /// Messages pushed to this client that `readReply` stepped over, header and body.
    private(set) var pushes: [(header: String, body: String)] = []

    /// The next line that is not part of a push; pushes are kept in `pushes`.
    func readReply(timeout: Double = 10) throws -> String {
        while true {
            let line = try readLine(timeout: timeout)
            let words = line.split(separator: " ")
            guard words.count >= 5, words[1] == "to", words[0].count == 6 else { return line }
            pushes.append((line, try readLine(timeout: timeout)))
        }
    }

    /// Sends a command and returns the next line.
    func ask(_ line: String, timeout: Double = 10) throws -> String {
        try sendLine(line)
        return try readLine(timeout: timeout)
    }

    /// True once bytes wait to be read, within `seconds`; reads none of them.
    func hasData(within seconds: Double) -> Bool {
        guard buffer.isEmpty else { return true }
        var descriptorPoll = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&descriptorPoll, 1, Int32(seconds * 1000)) == 1
    }

    /// True when nothing arrives for `seconds`: a bounded wait on purpose, for what must not
    /// happen (a push held back), where no event says it never will.
    func staysQuiet(for seconds: Double) -> Bool {
        guard buffer.isEmpty else { return false }
        do {
            try fill(until: Date().addingTimeInterval(seconds))
            return false
        } catch {
            return "\(error)".contains("timed out")
        }
    }

    /// True when the server closes the connection within `seconds` (reading past any data).
    func isClosedByServer(within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            do { try fill(until: deadline) } catch { return "\(error)".contains("closed") }
        }
    }

    func signUpAndIn(_ uid: String, password: String = "pw") throws {
        let signUp = try ask("signup \(uid) \(password)")
        guard signUp == "signup successfully" else { throw Failure(description: "signup \(uid): \(signUp)") }
        let signIn = try ask("signin \(uid) \(password)")
        guard signIn == "signin successfully" else { throw Failure(description: "signin \(uid): \(signIn)") }
    }

    func shutdownWrite() { shutdown(descriptor, Int32(SHUT_WR)) }

    /// Closes at once with a reset, as a crashed client's kernel would not, to be abrupt.
    func abort() {
        var lingerOption = linger(l_onoff: 1, l_linger: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &lingerOption, socklen_t(MemoryLayout<linger>.size))
        shutdown(descriptor, Int32(SHUT_RDWR))
    }

    private func fill(until deadline: Date) throws {
        let remaining = deadline.timeIntervalSinceNow
        guard remaining > 0 else { throw Failure(description: "timed out; have \(String(decoding: buffer, as: UTF8.self).debugDescription)") }
        var descriptorPoll = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptorPoll, 1, Int32(min(remaining * 1000, 60_000)) + 1)
        if ready == 0 { throw Failure(description: "timed out; have \(String(decoding: buffer, as: UTF8.self).debugDescription)") }
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let received = recv(descriptor, &chunk, chunk.count, 0)
        guard received > 0 else { throw Failure(description: "closed by server") }
        buffer.append(contentsOf: chunk[..<received])
    }
}
