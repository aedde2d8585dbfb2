/// A request or one-way message that arrived on one of a loop's sockets.
public struct BusIncoming: Sendable {
    public let socket: BusLoop.SocketID
    /// The sender's identity when the message came through a ROUTER socket.
    public let peer: [UInt8]?
    public let envelope: BusEnvelope

    public var message: BusMessage { envelope.message }
}
