/// Jittered exponential backoff for reconnecting: 0.5 s, 1 s, 2 s ... up to 30 s, each
/// between half and all of that, so that thousands of clients of one restarted gateway do not
/// come back in the same instant. `chat` waits these; `chat-bench storm` plays its clients by them.
public struct ReconnectBackoff: Sendable {
    private var ceiling = 0.5

    public init() {}

    /// Seconds to wait before the next try.
    public mutating func next() -> Double {
        defer { ceiling = min(ceiling * 2, 30) }
        return Double.random(in: (ceiling / 2)...ceiling)
    }
}
