/// Who may talk to this process's bound sockets when the bus runs CurveZMQ: libzmq asks its
/// ZAP handler (RFC 27) about each connection after the Curve handshake, with the client's
/// public key; only the system's own key is admitted. Pure: the bus loop reads the request
/// frames from its ZAP socket and sends back the reply this makes.
public struct BusAdmission: Sendable {
    /// The system's public key, 32 bytes.
    private let systemKey: [UInt8]

    public init(systemKey: [UInt8]) {
        self.systemKey = systemKey
    }

    /// What a ZAP request comes to: the reply frames, and why a connection was refused (nil
    /// when it was admitted).
    public struct Decision: Equatable, Sendable {
        public let reply: [[UInt8]]
        public let refusal: Refusal?
    }

    public struct Refusal: Equatable, Sendable {
        /// The peer's address, as libzmq gives it (an IP address; empty for `ipc://`).
        public let address: String
        public let reason: String
    }

    /// The answer to one request's frames: version, request id, domain, address, routing id,
    /// mechanism, credentials. Anything but `CURVE` with the system's key is refused (a
    /// request libzmq would not send, malformed, is refused too, with status 500).
    public func decide(_ frames: [[UInt8]]) -> Decision {
        let version = Array("1.0".utf8)
        guard frames.count >= 6, frames[0] == version else {
            // No request id to answer with: a reply libzmq will take as a failure.
            return Decision(reply: [version, frames.count > 1 ? frames[1] : [], Array("500".utf8), Array("malformed ZAP request".utf8), [], []],
                            refusal: Refusal(address: "", reason: "malformed ZAP request"))
        }
        let requestId = frames[1], address = String(decoding: frames[3], as: UTF8.self)
        let mechanism = String(decoding: frames[5], as: UTF8.self)
        func answer(_ code: String, _ text: String) -> [[UInt8]] { [version, requestId, Array(code.utf8), Array(text.utf8), [], []] }
        guard mechanism == "CURVE" else {
            return Decision(reply: answer("400", "CURVE required"), refusal: Refusal(address: address, reason: "mechanism \(mechanism), not CURVE"))
        }
        guard frames.count == 7, frames[6] == systemKey else {
            return Decision(reply: answer("400", "unknown key"), refusal: Refusal(address: address, reason: "a key that is not the system's"))
        }
        return Decision(reply: answer("200", "OK"), refusal: nil)
    }
}
