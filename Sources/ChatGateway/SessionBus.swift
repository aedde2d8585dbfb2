import ChatBus
import NIOCore

/// What a connection needs of the bus: requests answered on its event loop, one-way
/// messages, and texts (whose replies come back through `ClientConnection.replyReady`).
/// `GatewayBus` is the real one; tests put a fake behind it.
protocol SessionBus: AnyObject, Sendable {
    /// Sends a request; `completion` runs on `eventLoop` with the answer or why there is none.
    func request(_ message: BusMessage, to destination: BusDestination, on eventLoop: EventLoop,
                 _ completion: @escaping @Sendable (Result<BusMessage, BusRequestError>) -> Void)
    /// A one-way message: no answer, no retry.
    func send(_ message: BusMessage, to destination: BusDestination)
    /// A text to store and deliver; its reply lands in the submission's slot on its connection.
    func deliverText(_ text: TextSubmission)
}
