/// Commands for peer-to-peer file transfer, the project's own (see docs/protocol.md). They
/// start with `uid1 p2p`, a form the contract's commands never take, so they disturb nothing.
public enum P2PCommand: Equatable, Sendable {
    /// Offer `name` (`size` bytes, `sha256` lowercase hex) to `peer`; `privateEndpoint` is where
    /// this client's chat connection is bound on its own network.
    case offer(peer: String, size: Int64, sha256: String, privateEndpoint: String, name: String)
    case accept(token: String, privateEndpoint: String)
    case decline(token: String)

    /// Parses the words after `uid1 p2p`; nil when malformed. `line` is the whole line, since
    /// the offered name is the rest of it and may hold spaces.
    static func parse(_ words: [Substring], line: [UInt8]) -> P2PCommand? {
        guard words.count >= 4 else { return nil }
        switch words[2] {
        case "offer":
            guard words.count >= 8, Identifiers.isValidUID(words[3]), let size = Identifiers.parseSize(words[4]),
                  isSHA256(words[5]), Endpoint(words[6]) != nil else { return nil }
            let prefix = words[0..<7].reduce(0) { $0 + $1.utf8.count + 1 }
            let name = Array(line.dropFirst(prefix))
            guard FileNames.isValidFileName(name) else { return nil }
            return .offer(peer: String(words[3]), size: size, sha256: String(words[5]), privateEndpoint: String(words[6]),
                          name: String(decoding: name, as: UTF8.self))
        case "accept":
            guard words.count == 5, isToken(words[3]), Endpoint(words[4]) != nil else { return nil }
            return .accept(token: String(words[3]), privateEndpoint: String(words[4]))
        case "decline":
            guard words.count == 4, isToken(words[3]) else { return nil }
            return .decline(token: String(words[3]))
        default:
            return nil
        }
    }

    /// The words after `uid1 p2p `, as a client sends them.
    var arguments: String {
        switch self {
        case .offer(let peer, let size, let sha256, let privateEndpoint, let name):
            return "offer \(peer) \(size) \(sha256) \(privateEndpoint) \(name)"
        case .accept(let token, let privateEndpoint):
            return "accept \(token) \(privateEndpoint)"
        case .decline(let token):
            return "decline \(token)"
        }
    }

    public static func isSHA256<S: StringProtocol>(_ text: S) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy(isLowerHex)
    }

    /// Transfer tokens: 32 lowercase hex digits (128 random bits).
    public static func isToken<S: StringProtocol>(_ text: S) -> Bool {
        text.utf8.count == 32 && text.utf8.allSatisfy(isLowerHex)
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        Identifiers.isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
    }
}

/// `a.b.c.d:port` or `[v6]:port`, as clients report where they are bound.
public struct Endpoint: Equatable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int

    /// Where a client's own socket is bound (no check: the socket has that address).
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init?<S: StringProtocol>(_ text: S) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
            guard !host.isEmpty, host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
        } else {
            let parts = host.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4, parts.allSatisfy({ part in
                (1...3).contains(part.count) && part.allSatisfy(\.isASCII) && (Int(part).map { $0 <= 255 } ?? false)
            }) else { return nil }
        }
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
