import ChatCrypto
import Testing

@Suite struct WirePasswordTests {
    /// The client sends lowercase hex SHA-256 of `uid:password`; the vector is from Python's hashlib.
    @Test func sha256OfUidAndPassword() {
        #expect(SHA256Digest.hexHash("123456:secret_1") == "23b9cc9abdbbe9d9646b643ed611723d258cd7efe70fa0690e3edc7b26791195")
    }

    @Test func scryptIsDeterministicPerSaltAndDiffersAcrossSalts() throws {
        let cost = Scrypt(n: 1024, r: 8, p: 1)
        let password = Array("pw".utf8)
        let one = try cost.derive(password: password, salt: [1, 2, 3])
        #expect(try cost.derive(password: password, salt: [1, 2, 3]) == one)
        #expect(try cost.derive(password: password, salt: [1, 2, 4]) != one)
        #expect(one.count == 32)
    }

    /// RFC 7914 section 12, second vector: scrypt("password", "NaCl", N=1024, r=8, p=16).
    @Test func scryptMatchesRFC7914() throws {
        let key = try Scrypt(n: 1024, r: 8, p: 16).derive(password: Array("password".utf8), salt: Array("NaCl".utf8), length: 64)
        #expect(key.hexString == "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640")
    }
}

@Suite struct SHA256HasherTests {
    @Test func piecesHashLikeTheWhole() {
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let hasher = SHA256Hasher()
        var offset = 0
        for size in [1, 63, 64, 65, 4096, 99_999] where offset < bytes.count {
            let end = min(bytes.count, offset + size)
            hasher.update(Array(bytes[offset..<end]))
            offset = end
        }
        #expect(hasher.finalHex() == SHA256Digest.hash(bytes).hexString)
        let empty = SHA256Hasher()
        #expect(empty.finalHex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}
