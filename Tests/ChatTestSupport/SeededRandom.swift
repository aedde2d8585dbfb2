/// A deterministic random source (SplitMix64), so a test fed random input fails the same way
/// every run and a failure names its seed.
public struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Bytes that look like protocol text often enough to get past the first checks: words
    /// of the protocol, uids, digits, spaces, line ends, and now and then any byte at all.
    public mutating func protocolishBytes(maxWords: Int = 8) -> [UInt8] {
        let words = ["signin", "signup", "to", "text", "audio", "file", "history", "all", "filename", "addFriend",
                     "friends", "offline", "p2p", "offer", "accept", "decline", "relay", "ok", "111111", "222222",
                     "202004131702", "999999999999", "0", "18446744073709551616", "-1", "a.txt", "..", "/",
                     String(repeating: "ab", count: 16), String(repeating: "f", count: 64), "127.0.0.1:9", "[::1]:9", ""]
        var bytes: [UInt8] = []
        for index in 0..<Int.random(in: 1...maxWords, using: &self) {
            if index > 0 { bytes.append(Bool.random(using: &self) ? 0x20 : UInt8.random(in: 0...255, using: &self)) }
            if Int.random(in: 0..<8, using: &self) == 0 {
                bytes += (0..<Int.random(in: 0...12, using: &self)).map { _ in UInt8.random(in: 0...255, using: &self) }
            } else {
                bytes += Array(words.randomElement(using: &self)!.utf8)
            }
        }
        return bytes
    }
}
