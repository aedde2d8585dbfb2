import Foundation

/// A TCP connection under way that nobody waits on: many clients of one load-generator thread
/// can each be in their own handshake, so a SYN the server dropped (and the kernel retries a
/// second later) delays only its own client, as it would a client on a machine of its own.
final class ConnectingSocket {
    struct Failure: Error, CustomStringConvertible { let description: String }

    let descriptor: Int32
    private let host: String
    private var isHandedOver = false

    /// Starts connecting; throws when the connection failed at once (nobody listening).
    init(port: Int, host: String, from source: String?) throws {
        descriptor = try BlockingSocket.openSocket(from: source)
        self.host = host
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        guard BlockingSocket.connect(descriptor, host: host, port: port) == 0 || errno == EINPROGRESS else {
            throw Failure(description: "cannot connect to \(host):\(port)")
        }
    }

    /// Once `poll` found the socket writable: whether the connection was made.
    var isConnected: Bool {
        var error: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &size) == 0 && error == 0
    }

    /// The connection made, blocking again, for sending and reading lines.
    func connected(receiveTimeout: Double, tlsTrust: String?) throws -> BlockingSocket {
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
        isHandedOver = true
        return try BlockingSocket(connected: descriptor, host: host, receiveTimeout: receiveTimeout, tlsTrust: tlsTrust)
    }

    deinit { if !isHandedOver { close(descriptor) } }
}
