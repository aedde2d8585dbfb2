import Logging
import ZeroMQ

/// CurveZMQ for one process's bus (`BusLoop`), when `bus.curve` is on: bound sockets become
/// Curve servers whose connections libzmq puts to this process's ZAP handler (`BusAdmission`:
/// only the system's key is let in), and connecting sockets Curve clients of the system's key.
/// Refused connections are logged, the first at once, then a count every ten seconds at most: a peer without the
/// key, or without Curve at all, gets nothing, and the operator sees it.
///
/// Unchecked as its loop is: used on the loop's thread only.
final class BusGate: @unchecked Sendable {
    /// Where libzmq sends the ZAP requests of every socket of a context (RFC 27).
    private static let zapEndpoint = "inproc://zeromq.zap.01"
    static let domain = "chat"

    let keys: CurveKeyPair
    private let admission: BusAdmission
    private let logger: Logger
    /// The ZAP handler's socket, bound with the first Curve server.
    private(set) var zapSocket: Socket?
    private var refusals = ReportThrottle<Int>()
    private var latestRefusal: (endpoint: String, address: String, reason: String)?
    private var handshakeFailures = ReportThrottle<Int>()
    private var latestHandshakeFailure: (endpoint: String, reason: String)?

    init(keys: CurveKeyPair, logger: Logger) {
        self.keys = keys
        admission = BusAdmission(systemKey: CurveKeyPair.decode(keys.publicKey)!)
        self.logger = logger
    }

    /// Makes `socket`, about to bind, a Curve server admitting the system's key only.
    func secureServer(_ socket: Socket, in context: Context) throws {
        if zapSocket == nil {
            // A ROUTER, not a REP: a reply that fails half-way leaves a REP unable to receive,
            // and every later handshake would wait out its timeout.
            let zap = try context.socket(.router)
            try zap.setLinger(milliseconds: 0)
            try zap.bind(Self.zapEndpoint)
            zapSocket = zap
        }
        try socket.makeCurveServer(keys, domain: Self.domain)
    }

    /// Makes `socket`, about to connect, a Curve client of the system's key.
    func secureClient(_ socket: Socket) throws {
        try socket.makeCurveClient(keys, serverKey: keys.publicKey)
    }

    /// Answers every ZAP request waiting (loop thread, when the ZAP socket is readable).
    func answerAdmissions() {
        guard let zapSocket else { return }
        while let frames = try? zapSocket.receive(blocking: false, maxFrames: 16) {
            // The requester's routing id and the empty delimiter, then the request.
            guard frames.count >= 2, frames[1].isEmpty else { continue }
            let decision = admission.decide(Array(frames.dropFirst(2)))
            do {
                try zapSocket.send(frames: [frames[0], []] + decision.reply)
            } catch {
                logger.error("bus: cannot answer a ZAP request", metadata: ["bus.error": "\(error)"])
            }
            if let refusal = decision.refusal {
                refusals.unreported += 1
                latestRefusal = ("", refusal.address, refusal.reason)
            }
        }
    }

    /// A connection dropped in its handshake, from a socket monitor. At a bound socket: a peer
    /// without Curve, or with a key pair not made with the system's public key (one refused by
    /// the ZAP handler is counted by `answerAdmissions`, with its address). At a connecting
    /// one: a worker that would not take this process's key. A handshake cut short otherwise
    /// counts at a bound socket (which side cut it depends on timing: a peer without Curve is
    /// seen either way), not at a connecting one (a worker restarting cuts it too).
    func noteHandshakeFailure(_ failure: MonitorEvent.HandshakeFailure, endpoint: String, bound: Bool) {
        let reason: String
        switch failure {
        case .mechanismMismatch: reason = "no CurveZMQ handshake"
        case .wrongKey: reason = "a key that does not go with the system's"
        case .refusedByZAP: reason = "a key that is not the system's"
        case .other:
            guard bound else { return }
            reason = "handshake not completed"
        }
        if bound {
            guard failure != .refusedByZAP else { return }
            refusals.unreported += 1
            latestRefusal = (endpoint, "", reason)
        } else {
            handshakeFailures.unreported += 1
            latestHandshakeFailure = (endpoint, reason)
        }
    }

    /// Logs what was refused since the last report, at most once per `interval` (loop thread,
    /// at each wake-up).
    func report(now: UInt64, every interval: UInt64) {
        if let count = refusals.report(now: now, every: interval), let latest = latestRefusal {
            logger.warning("bus: refused a connection without the system's key", metadata: [
                "bus.refused": "\(count)", "bus.reason": "\(latest.reason)",
                "bus.peer": "\(latest.address.isEmpty ? "unknown" : latest.address)",
            ].merging(latest.endpoint.isEmpty ? [:] : ["bus.endpoint": "\(latest.endpoint)"]) { first, _ in first })
        }
        if let count = handshakeFailures.report(now: now, every: interval), let latest = latestHandshakeFailure {
            logger.error("bus: a worker refused this process (is keys/bus.secret the system's, and bus.curve the same everywhere?)",
                         metadata: ["bus.endpoint": "\(latest.endpoint)", "bus.reason": "\(latest.reason)", "bus.refused": "\(count)"])
        }
    }
}
