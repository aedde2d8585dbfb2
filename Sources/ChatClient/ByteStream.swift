import ChatProtocol
import Foundation

/// A connected stream of bytes, to the server or to a peer: plain TCP, or TLS over it
/// (`TLSStream`). One thread reads; others may write.
protocol ByteStream: AnyObject, Sendable {
    /// The TCP socket underneath, for its local address.
    var descriptor: Int32 { get }
    /// Sends all of `bytes`; false once the connection is lost.
    func write(_ bytes: UnsafeRawBufferPointer) -> Bool
    /// Up to `buffer.count` bytes as they arrive: the count read, 0 once the connection
    /// ended, nil at `deadline` (nil: wait for as long as it takes).
    func read(into buffer: UnsafeMutableRawBufferPointer, until deadline: Date?) -> Int?
    /// Ends the connection both ways; a read waiting on another thread returns.
    func shutdown()
}

extension ByteStream {
    func write(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { write($0) } }

    func send(line: String) -> Bool { write(Array((line + "\n").utf8)) }

    func send(_ line: PeerLinkLine) -> Bool { send(line: line.text) }

    /// Reads one line, a byte at a time so nothing after it is consumed (the bytes of a
    /// transfer follow); nil on timeout, close, or a line past `limit`.
    func readLine(timeout: Double, limit: Int = 4096) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count < limit {
            guard withUnsafeMutableBytes(of: &byte, { read(into: $0, until: deadline) }) == 1 else { return nil }
            if byte == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
        return nil
    }

    /// The next line if it is a peer-link line; nil on timeout, close, or any other line.
    func readLinkLine(timeout: Double) -> PeerLinkLine? {
        readLine(timeout: timeout).flatMap { PeerLinkLine(text: $0) }
    }
}

/// Plain TCP. Owns its descriptor.
final class PlainStream: ByteStream {
    let descriptor: Int32

    init(_ descriptor: Int32) { self.descriptor = descriptor }

    deinit { close(descriptor) }

    func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.send(descriptor, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, until deadline: Date?) -> Int? {
        while true {
            if let deadline {
                var ready = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                let remaining = deadline.timeIntervalSinceNow
                guard remaining > 0 else { return nil }
                let polled = poll(&ready, 1, Int32(remaining * 1000) + 1)
                if polled < 0 && errno == EINTR { continue }
                if polled == 0 { return nil }
            }
            let received = recv(descriptor, buffer.baseAddress, buffer.count, 0)
            if received >= 0 { return received }
            if errno != EINTR { return 0 }
        }
    }

    func shutdown() { _ = Glibc.shutdown(descriptor, Int32(SHUT_RDWR)) }
}
