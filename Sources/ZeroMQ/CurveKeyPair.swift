import CZeroMQ

/// A CurveZMQ key pair, each key in Z85 (40 printable characters), as libzmq takes them.
public struct CurveKeyPair: Equatable, Sendable {
    public let publicKey: String
    public let secretKey: String

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// Whether this libzmq was built with CurveZMQ (Debian's is, with libsodium).
    public static var isSupported: Bool { zmq_has("curve") == 1 }

    /// A new random pair.
    public static func generate() throws -> CurveKeyPair {
        var publicKey = [CChar](repeating: 0, count: 41), secretKey = [CChar](repeating: 0, count: 41)
        try LibZMQ.check(zmq_curve_keypair(&publicKey, &secretKey), "zmq_curve_keypair")
        return try CurveKeyPair(secretKey: Self.text(secretKey))
    }

    /// The pair of `secretKey` (its public key is derived from it), or `Invalid` for anything
    /// that is not a Z85 Curve key.
    public init(secretKey: String) throws {
        guard Self.decode(secretKey) != nil else { throw Invalid(description: "not a Z85 CurveZMQ key (40 characters)") }
        var derived = [CChar](repeating: 0, count: 41)
        guard zmq_curve_public(&derived, secretKey) == 0 else { throw Invalid(description: "zmq_curve_public failed (errno \(zmq_errno()))") }
        self.secretKey = secretKey
        publicKey = Self.text(derived)
    }

    /// The 32 bytes a Z85 key stands for; nil for anything else. (A ZAP request carries a
    /// client's public key in binary.)
    public static func decode(_ z85: String) -> [UInt8]? {
        guard z85.utf8.count == 40 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 32)
        guard zmq_z85_decode(&bytes, z85) != nil else { return nil }
        return bytes
    }

    /// A NUL-terminated key as text.
    private static func text(_ characters: [CChar]) -> String {
        String(decoding: characters.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self)
    }
}
