import ChatProtocol
import Foundation

/// The chat connection to the server, reading lines and counted raw bytes, over plain TCP or
/// TLS. One thread reads; writes from any thread are serialised.
///
/// Unchecked: `buffer`, the only mutable field, belongs to the one reading thread (the
/// session's reader); writes only use the stream, under `writeLock`.
final class LineConnection: @unchecked Sendable {
    private let stream: ByteStream
    private var buffer: [UInt8] = []
    private let writeLock = NSLock()
    /// The server closed the connection (or it was lost); set by the reading thread.
    private(set) var hasEnded = false
    /// How long a transfer's next bytes may take before the connection counts as lost.
    static let idleLimit: TimeInterval = 60

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(to server: ServerAddress) throws {
        stream = try server.connect(ownPort: true)
    }

    /// Where this connection is bound on the local network.
    var localEndpoint: (host: String, port: UInt16)? { PeerSocket.localEndpoint(stream.descriptor) }

    func send(_ bytes: [UInt8]) throws {
        writeLock.lock()
        defer { writeLock.unlock() }
        guard stream.write(bytes) else { throw Failure(description: "connection lost") }
    }

    func send(_ command: ClientCommand) throws { try send(command.bytes) }

    /// The next line without its ending; nil when the server closed the connection, or at
    /// `deadline` if there is one.
    func readLine(until deadline: Date? = nil) -> String? {
        while true {
            if let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(buffer[..<end])
                buffer.removeFirst(end + 1)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard fill(until: deadline) else { return nil }
        }
    }

    /// Exactly `count` bytes; nil if the connection closed first, or went a minute without
    /// sending any.
    func read(count: Int) -> [UInt8]? {
        while buffer.count < count {
            guard fill(until: Date().addingTimeInterval(Self.idleLimit)) else { return nil }
        }
        defer { buffer.removeFirst(count) }
        return Array(buffer[..<count])
    }

    /// Up to `limit` raw bytes, whatever is buffered first; nil if the connection closed, or
    /// went a minute without sending any.
    func readSome(upTo limit: Int) -> [UInt8]? {
        if buffer.isEmpty && !fill(until: Date().addingTimeInterval(Self.idleLimit)) { return nil }
        let count = min(limit, buffer.count)
        defer { buffer.removeFirst(count) }
        return Array(buffer[..<count])
    }

    func shutdown() { stream.shutdown() }

    /// False at the end of the connection or `deadline`.
    private func fill(until deadline: Date? = nil) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        guard let received = chunk.withUnsafeMutableBytes({ stream.read(into: $0, until: deadline) }) else { return false }
        guard received > 0 else {
            hasEnded = true
            return false
        }
        buffer.append(contentsOf: chunk[..<received])
        return true
    }
}
