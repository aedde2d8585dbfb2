import CZeroMQ

/// A failed libzmq call, carrying the errno libzmq reported and the call that failed.
public struct ZeroMQError: Error, CustomStringConvertible, Equatable {
    public let errno: Int32
    public let call: String

    public var description: String {
        "\(call): \(String(cString: zmq_strerror(errno))) (errno \(errno))"
    }

    /// Set when a non-blocking send or receive had nothing to do.
    public var isWouldBlock: Bool { errno == EAGAIN }
    /// Set when the context is being terminated and the socket must close.
    public var isTerminated: Bool { errno == ETERM }
    /// Set by ROUTER_MANDATORY when the peer identity is not connected.
    public var isUnroutable: Bool { errno == EHOSTUNREACH }
}
