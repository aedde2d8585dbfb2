import CZeroMQ

/// A change in a socket's connections, as libzmq's socket monitor reports it
/// (`zmq_socket_monitor`): the first frame is the event (u16) and a value (u32), in the host's
/// byte order; the second the endpoint it concerns.
public struct MonitorEvent: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case connected, disconnected, other(UInt16)
    }

    public let kind: Kind
    public let endpoint: String

    /// The events a bus peer's reachability needs.
    public static let connectionEvents = ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED

    /// Nil for frames that are not a monitor event.
    public init?(frames: [[UInt8]]) {
        guard frames.count == 2, frames[0].count >= 6 else { return nil }
        let event = frames[0].withUnsafeBytes { UInt16($0.loadUnaligned(fromByteOffset: 0, as: UInt16.self)) }
        switch Int32(event) {
        case ZMQ_EVENT_CONNECTED: kind = .connected
        case ZMQ_EVENT_DISCONNECTED: kind = .disconnected
        default: kind = .other(event)
        }
        endpoint = String(decoding: frames[1], as: UTF8.self)
    }
}
