import CZeroMQ

/// A change in a socket's connections, as libzmq's socket monitor reports it
/// (`zmq_socket_monitor`): the first frame is the event (u16) and a value (u32), in the host's
/// byte order; the second the endpoint it concerns.
public struct MonitorEvent: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// `handshakeFailed`: the connection was dropped in its handshake.
        case connected, disconnected, handshakeFailed(HandshakeFailure), other(UInt16)
    }

    /// Why a handshake failed, as far as it matters to an operator.
    public enum HandshakeFailure: Equatable, Sendable {
        /// One side speaks CurveZMQ and the other not.
        case mechanismMismatch
        /// The CurveZMQ handshake's cryptography failed: the peers' keys do not go together.
        case wrongKey
        /// The ZAP handler refused the peer's key.
        case refusedByZAP
        /// Anything else: a malformed handshake, a peer gone or silent mid-way.
        case other
    }

    public let kind: Kind
    public let endpoint: String

    /// The events a bus peer's reachability needs. A peer counts as connected once the
    /// handshake is done, not when TCP connects: one that refuses this socket's CurveZMQ key
    /// connects and drops at every retry, and would otherwise seem to come and go.
    public static let connectionEvents = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED
    /// The events of a connection dropped in its handshake.
    public static let handshakeFailures = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
        | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH

    /// Nil for frames that are not a monitor event.
    public init?(frames: [[UInt8]]) {
        guard frames.count == 2, frames[0].count >= 6 else { return nil }
        let event = frames[0].withUnsafeBytes { UInt16($0.loadUnaligned(fromByteOffset: 0, as: UInt16.self)) }
        switch Int32(event) {
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: kind = .connected
        case ZMQ_EVENT_DISCONNECTED: kind = .disconnected
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: kind = .handshakeFailed(.refusedByZAP)
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
            let value = frames[0].withUnsafeBytes { UInt32($0.loadUnaligned(fromByteOffset: 2, as: UInt32.self)) }
            switch Int32(bitPattern: value) {
            case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH: kind = .handshakeFailed(.mechanismMismatch)
            case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC: kind = .handshakeFailed(.wrongKey)
            default: kind = .handshakeFailed(.other)
            }
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: kind = .handshakeFailed(.other)
        default: kind = .other(event)
        }
        endpoint = String(decoding: frames[1], as: UTF8.self)
    }
}
