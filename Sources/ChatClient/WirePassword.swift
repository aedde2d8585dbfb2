import ChatCrypto

/// What the client sends instead of the typed password: lowercase hex SHA-256 of
/// `uid:password`, so the typed password never leaves the machine.
public enum WirePassword {
    public static func derive(uid: String, password: String) -> String {
        SHA256Digest.hexHash("\(uid):\(password)")
    }
}
