import ChatBus
@testable import ChatGateway
import NIOCore

/// A bus that answers nothing by itself: the test reads what was asked and answers it,
/// in whatever order the test wants.
///
/// `@unchecked Sendable`: used on the test's thread alone, with EmbeddedEventLoops.
final class FakeSessionBus: SessionBus, @unchecked Sendable {
    struct Request {
        let message: BusMessage
        let destination: BusDestination
        let completion: @Sendable (Result<BusMessage, BusRequestError>) -> Void
    }

    private(set) var requests: [Request] = []
    private(set) var sent: [(message: BusMessage, destination: BusDestination)] = []
    private(set) var texts: [TextSubmission] = []

    func request(_ message: BusMessage, to destination: BusDestination, on eventLoop: EventLoop,
                 _ completion: @escaping @Sendable (Result<BusMessage, BusRequestError>) -> Void) {
        requests.append(Request(message: message, destination: destination, completion: completion))
    }

    func send(_ message: BusMessage, to destination: BusDestination) {
        sent.append((message, destination))
    }

    func deliverText(_ text: TextSubmission) {
        texts.append(text)
    }

    /// Answers the oldest request still unanswered that matches `matching`.
    func answer(where matching: (BusMessage) -> Bool, with answer: Result<BusMessage, BusRequestError>) throws {
        guard let index = requests.firstIndex(where: { matching($0.message) }) else { throw NoSuchRequest(pending: requests.map(\.message)) }
        let request = requests.remove(at: index)
        request.completion(answer)
    }

    /// Answers the oldest request still unanswered.
    func answerNext(with answer: Result<BusMessage, BusRequestError>) throws {
        try self.answer(where: { _ in true }, with: answer)
    }

    func takeRequests() -> [Request] {
        defer { requests.removeAll() }
        return requests
    }

    struct NoSuchRequest: Error {
        let pending: [BusMessage]
    }
}
