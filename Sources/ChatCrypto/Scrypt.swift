import CLibCrypto

/// scrypt key derivation through OpenSSL's libcrypto.
public struct Scrypt: Equatable, Sendable {
    /// CPU/memory cost, a power of two.
    public let n: UInt64
    public let r: UInt64
    public let p: UInt64

    /// OWASP's recommendation: N = 2^17, r = 8, p = 1.
    public static let recommended = Scrypt(n: 1 << 17, r: 8, p: 1)

    public init(n: UInt64, r: UInt64, p: UInt64) {
        self.n = n
        self.r = r
        self.p = p
    }

    public struct Failure: Error {}

    public func derive(password: [UInt8], salt: [UInt8], length: Int = 32) throws -> [UInt8] {
        var key = [UInt8](repeating: 0, count: length)
        // 128·r·N bytes for V plus room for B, as OpenSSL's own check computes it.
        let maxMemory = 128 * r * n + 128 * r * p + 1 << 20
        let result = password.withUnsafeBufferPointer { passwordBytes in
            salt.withUnsafeBufferPointer { saltBytes in
                passwordBytes.withMemoryRebound(to: CChar.self) { passwordChars in
                    EVP_PBE_scrypt(passwordChars.baseAddress, passwordBytes.count,
                                   saltBytes.baseAddress, saltBytes.count,
                                   n, r, p, maxMemory, &key, length)
                }
            }
        }
        guard result == 1 else { throw Failure() }
        return key
    }
}
