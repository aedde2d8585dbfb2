import ChatBus
import ChatProtocol
@testable import ChatGateway
import NIOCore

/// Drives a `ClientSession` alone, step by step: bytes in, answers in, actions out.
struct SessionTranscript {
    var session: ClientSession
    /// When the next bytes arrive (the message rate's clock); tests move it on.
    var now = NIODeadline.uptimeNanoseconds(1_000_000_000)

    static let password = "secret_1"

    /// `addressKey` is what a sign-in or sign-up carries to auth for counting by address.
    init(settings: ClientSession.Settings = ClientSession.Settings(), remoteAddress: String = "198.51.100.7:40000",
         addressKey: String? = nil) {
        session = ClientSession(connectionId: 7, settings: settings)
        session.connected(remoteAddress: remoteAddress, addressKey: addressKey)
        _ = session.takeActions()
    }

    /// A session signed in as `uid`, its actions so far taken.
    static func signedIn(_ uid: String = "111111", settings: ClientSession.Settings = ClientSession.Settings()) -> SessionTranscript {
        var transcript = SessionTranscript(settings: settings)
        transcript.send("signin \(uid) \(password)\n")
        let signIn = transcript.takeRequests()
        transcript.answer(signIn[0].then, .success(.authOutcome(.signedIn)))
        let attach = transcript.takeRequests()
        transcript.answer(attach[0].then, .success(.attached))
        _ = transcript.session.takeActions()
        return transcript
    }

    /// Asks 111111's history with 222222 and has storage's snapshot say it holds `byteCount`
    /// bytes up to record `through`: the session has just offered them with
    /// `server_data_size<N>` (the actions so far not taken).
    mutating func offerHistory(byteCount: Int, through: Int64 = 9) {
        send("111111 history 222222 all\n")
        let pair = PairKey("111111", "222222")
        answer(.userExists(1, then: .openHistory(pair)), .success(.existence(true)))
        answer(.openHistory(1, pair: pair), .success(.historySnapshot(through: through, size: Int64(byteCount))))
    }

    mutating func offerHistory(_ records: [UInt8]) {
        offerHistory(byteCount: records.count)
    }

    mutating func send(_ text: String) {
        send(Array(text.utf8))
    }

    mutating func send(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { session.received($0, at: now) }
    }

    mutating func answer(_ request: PendingRequest, _ answer: Result<BusMessage, BusRequestError>) {
        session.answered(request, answer)
    }

    mutating func take() -> [SessionAction] { session.takeActions() }

    /// The requests asked for since the last take; other actions are dropped.
    mutating func takeRequests() -> [(message: BusMessage, to: BusDestination, then: PendingRequest)] {
        take().compactMap {
            if case .request(let message, let destination, let then) = $0 { return (message, destination, then) }
            return nil
        }
    }

    /// Everything written since the last take, as text; other actions are dropped.
    mutating func takeWritten() -> String {
        String(decoding: take().flatMap { action -> [UInt8] in
            if case .write(let bytes) = action { return bytes }
            return []
        }, as: UTF8.self)
    }
}

extension [SessionAction] {
    var written: String {
        String(decoding: flatMap { action -> [UInt8] in
            if case .write(let bytes) = action { return bytes }
            return []
        }, as: UTF8.self)
    }

    var closeReason: CloseReason? {
        for case .close(let reason) in self { return reason }
        return nil
    }
}
