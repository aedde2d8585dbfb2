/// Why a request over the bus got no answer.
public enum BusRequestError: Error, Equatable, Sendable {
    /// The peer did not answer within the loop's request timeout.
    case timedOut
    /// The message could not even be queued: no peer connected, or its queue is full.
    case unreachable
}
