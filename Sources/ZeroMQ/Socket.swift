import CZeroMQ

/// One libzmq socket. Not thread-safe, as libzmq sockets are not: keep each on one thread.
public final class Socket {
    let handle: UnsafeMutableRawPointer
    private var isClosed = false

    init(handle: UnsafeMutableRawPointer) {
        self.handle = handle
    }

    deinit { close() }

    public func close() {
        guard !isClosed else { return }
        isClosed = true
        LibZMQ.close(handle)
    }

    public func bind(_ endpoint: String) throws { try LibZMQ.bind(handle, endpoint) }
    public func connect(_ endpoint: String) throws { try LibZMQ.connect(handle, endpoint) }

    /// The endpoint actually bound (resolves `tcp://127.0.0.1:*`).
    public var lastEndpoint: String {
        get throws { try LibZMQ.getStringOption(handle, ZMQ_LAST_ENDPOINT) }
    }

    public func setIdentity(_ identity: [UInt8]) throws { try LibZMQ.setOption(handle, ZMQ_ROUTING_ID, bytes: identity) }
    /// Makes a ROUTER fail with EHOSTUNREACH instead of silently dropping an unroutable message.
    public func setRouterMandatory(_ on: Bool) throws { try LibZMQ.setOption(handle, ZMQ_ROUTER_MANDATORY, int: on ? 1 : 0) }
    /// Milliseconds pending messages may linger after close; 0 drops them.
    public func setLinger(milliseconds: Int32) throws { try LibZMQ.setOption(handle, ZMQ_LINGER, int: milliseconds) }
    public func setSendHighWaterMark(_ messages: Int32) throws { try LibZMQ.setOption(handle, ZMQ_SNDHWM, int: messages) }
    public func setReceiveHighWaterMark(_ messages: Int32) throws { try LibZMQ.setOption(handle, ZMQ_RCVHWM, int: messages) }
    /// Larger inbound messages disconnect their sender (ZMQ_MAXMSGSIZE).
    public func setMaxMessageSize(_ bytes: Int64) throws { try LibZMQ.setOption(handle, ZMQ_MAXMSGSIZE, int64: bytes) }
    public func setReconnectInterval(milliseconds: Int32) throws { try LibZMQ.setOption(handle, ZMQ_RECONNECT_IVL, int: milliseconds) }

    /// Makes this (binding) socket a CurveZMQ server with `keys`: every connection is encrypted,
    /// and each client's key is put to the context's ZAP handler, if there is one, for
    /// `domain`.
    public func makeCurveServer(_ keys: CurveKeyPair, domain: String) throws {
        try LibZMQ.setOption(handle, ZMQ_CURVE_SERVER, int: 1)
        try LibZMQ.setOption(handle, ZMQ_CURVE_SECRETKEY, bytes: Array(keys.secretKey.utf8))
        try LibZMQ.setOption(handle, ZMQ_ZAP_DOMAIN, bytes: Array(domain.utf8))
    }

    /// Makes this (connecting) socket a CurveZMQ client with `keys`, of the server whose public
    /// key is `serverKey`: it talks only to that server, encrypted.
    public func makeCurveClient(_ keys: CurveKeyPair, serverKey: String) throws {
        try LibZMQ.setOption(handle, ZMQ_CURVE_SERVERKEY, bytes: Array(serverKey.utf8))
        try LibZMQ.setOption(handle, ZMQ_CURVE_PUBLICKEY, bytes: Array(keys.publicKey.utf8))
        try LibZMQ.setOption(handle, ZMQ_CURVE_SECRETKEY, bytes: Array(keys.secretKey.utf8))
    }

    /// Publishes this socket's `events` (ZMQ_EVENT_*) on a PAIR socket bound at `endpoint`
    /// (`inproc://...`); connect a PAIR there to read them as `MonitorEvent`s.
    public func monitor(_ endpoint: String, events: Int32) throws { try LibZMQ.monitor(handle, endpoint, events: events) }

    /// Sends `payload`, behind `identity` as a frame of its own when given (how a ROUTER
    /// addresses a peer), without copying it into an array first. Returns false when
    /// non-blocking and it would block.
    public func send(identity: [UInt8]?, payload: UnsafeRawBufferPointer, blocking: Bool = true) throws -> Bool {
        let flags: Int32 = blocking ? 0 : ZMQ_DONTWAIT
        if let identity {
            // libzmq queues a multipart message atomically: only the first frame can report EAGAIN.
            guard try identity.withUnsafeBytes({ try LibZMQ.send(handle, $0, flags: flags | ZMQ_SNDMORE) }) else { return false }
        }
        return try LibZMQ.send(handle, payload, flags: flags)
    }

    /// Sends a multipart message, one frame per element (blocking).
    public func send(frames: [[UInt8]]) throws {
        for (index, frame) in frames.enumerated() {
            let flags: Int32 = index < frames.count - 1 ? ZMQ_SNDMORE : 0
            _ = try frame.withUnsafeBytes { try LibZMQ.send(handle, $0, flags: flags) }
        }
    }

    /// Receives one whole multipart message; nil when non-blocking and nothing is queued.
    /// Frames past `maxFrames` are read and dropped (a peer may send any number): a message
    /// with more than `maxFrames` comes back with `maxFrames + 1`, the last one empty.
    public func receive(blocking: Bool = true, maxFrames: Int = .max) throws -> [[UInt8]]? {
        guard let first = try LibZMQ.receive(handle, flags: blocking ? 0 : ZMQ_DONTWAIT) else { return nil }
        var frames = [first.bytes]
        var more = first.more
        while more {
            guard let next = try LibZMQ.receive(handle, flags: 0) else { break }
            if frames.count < maxFrames {
                frames.append(next.bytes)
            } else if frames.count == maxFrames {
                frames.append([])
            }
            more = next.more
        }
        return frames
    }
}
