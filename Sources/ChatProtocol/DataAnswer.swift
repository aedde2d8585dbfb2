/// The client's answer to `server_data_size<N>`: `ok` takes the N bytes, any other line
/// cancels (our client sends `no`).
public enum DataAnswer: Equatable, Sendable {
    case accept
    case cancel

    private static let acceptLine = Array("ok".utf8)

    /// The answer a line (without its ending) gives.
    public init(line: [UInt8]) {
        self = line == Self.acceptLine ? .accept : .cancel
    }

    public var text: String { self == .accept ? "ok" : "no" }
}
