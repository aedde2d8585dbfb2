import ChatBus
import ChatProtocol
@testable import ChatGateway
import ChatTestSupport
import NIOCore
import Testing

/// The session fed random bytes and random answers: it never crashes, never writes after it
/// asked to close, and answers in order whatever arrives.
@Suite struct SessionRandomInputTests {
    /// Answers a worker might give, right or wrong for the request.
    static let answers: [Result<BusMessage, BusRequestError>] = [
        .failure(.timedOut), .failure(.unreachable), .success(.failure("no")),
        .success(.existence(true)), .success(.existence(false)), .success(.authOutcome(.signedIn)),
        .success(.authOutcome(.friendAdded)), .success(.attached), .success(.friendList(["222222"])),
        .success(.presence([true])), .success(.historySnapshot(through: 0, size: 0)), .success(.historySnapshot(through: 5, size: 2)),
        .success(.historyPage(last: 5, bytes: Array("x\n".utf8))), .success(.historyPage(last: 0, bytes: [])),
        .success(.uploadReady(upload: 9)), .success(.chunkStored), .success(.stored(record: [1])),
        .success(.delivery(.delivered)), .success(.downloadReady(download: 4, size: 3, path: "/x")),
        .success(.noSuchFile), .success(.chunk([1, 2, 3])), .success(.p2pRelayAllowed(offeredSize: 100)),
        .success(.storageReservation(granted: true)), .success(.storageReservation(granted: false)),
        .success(.partitionMoved(.initial(partitions: 16, workers: ["tcp://127.0.0.1:7910"]))),
    ]

    @Test(arguments: [11, 12, 13, 14] as [UInt64])
    func randomTrafficNeverBreaksTheSession(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var settings = ClientSession.Settings()
        settings.sendLocalFiles = false
        var transcript = Bool.random(using: &random) ? SessionTranscript.signedIn(settings: settings) : SessionTranscript(settings: settings)
        var pending: [PendingRequest] = []
        var closed = false
        for _ in 0..<3_000 {
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<6:
                var bytes = random.protocolishBytes()
                bytes.append(0x0a)
                transcript.send(bytes)
            case 6..<8 where !pending.isEmpty:
                let request = pending.remove(at: Int.random(in: 0..<pending.count, using: &random))
                transcript.answer(request, Self.answers.randomElement(using: &random)!)
            case 8:
                transcript.session.push(Array("333333 to 111111 addFriend\n".utf8))
            case 9 where Bool.random(using: &random):
                // Time passes: a message held back by the rate may go on.
                transcript.now = transcript.now + TimeAmount.milliseconds(Int64.random(in: 0..<200, using: &random))
                transcript.session.messageRateRefilled(at: transcript.now)
            default:
                transcript.session.timerFired([.login, .partialLine(generation: 0), .uploadIdle(upload: 1), .relayPartner, .relayIdle]
                    .randomElement(using: &random)!)
            }
            for action in transcript.take() {
                switch action {
                case .request(_, _, let then): pending.append(then)
                case .write: #expect(!closed, "seed \(seed): a write after close")
                case .close: closed = true
                default: break
                }
            }
        }
    }
}
