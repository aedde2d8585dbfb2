import ChatCrypto

/// Salted scrypt over the password the client sent. The parameters are stored with each
/// hash, so raising the cost later leaves existing users able to sign in.
public struct PasswordHasher: Sendable {
    public let cost: Scrypt

    public init(cost: Scrypt) { self.cost = cost }

    public struct StoredHash: Equatable, Sendable {
        public let salt: [UInt8]
        public let hash: [UInt8]
        public let cost: Scrypt
    }

    public func hash(_ password: String) throws -> StoredHash {
        let salt = SecureRandom.bytes(16)
        return StoredHash(salt: salt, hash: try cost.derive(password: Array(password.utf8), salt: salt), cost: cost)
    }

    public static func verify(_ password: String, against stored: StoredHash) throws -> Bool {
        let candidate = try stored.cost.derive(password: Array(password.utf8), salt: stored.salt, length: stored.hash.count)
        // Constant time: how much of a guess matched must not show in the timing.
        var difference: UInt8 = 0
        for (left, right) in zip(candidate, stored.hash) { difference |= left ^ right }
        return difference == 0 && candidate.count == stored.hash.count
    }
}
