import ChatRuntime

/// `metrics.listen` read as a host and a port: `127.0.0.1:9464`, `[::1]:9464`, `0.0.0.0:9464`.
public struct ListenAddress: Equatable, Sendable {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Nil for "" (the endpoint off); a `ConfigurationError` for anything else not `host:port`.
    public static func parse(_ text: String) throws -> ListenAddress? {
        guard !text.isEmpty else { return nil }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65_535).contains(port) else {
            throw unreadable(text)
        }
        var host = text[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else {
            throw unreadable(text)
        }
        return ListenAddress(host: String(host), port: port)
    }

    private static func unreadable(_ text: String) -> ConfigurationError {
        ConfigurationError("metrics.listen is \"\(text)\"; it takes host:port, such as 127.0.0.1:9464, or \"\" for none")
    }
}
