import ChatBus
import ChatProtocol
@testable import ChatGateway
import NIOCore
import Testing

/// The stored-bytes quota as the session applies it: an upload's size is reserved with auth
/// after the contract's checks and before storage hears of it; a refusal is a reply in its
/// place; an upload that is not stored gives its reservation back, exactly once.
@Suite struct SessionStorageQuotaTests {
    static let text = "111111 to 222222 202004131702 text"
    static let pair = PairKey("111111", "222222")

    /// Sends a file message of `size` bytes to 222222 and says the recipient exists.
    static func offeringFile(size: Int64, name: String = "notes.txt", to transcript: inout SessionTranscript) {
        transcript.send("111111 to 222222 202004131702 file \(size)\n\(name)\n")
        let exists = transcript.takeRequests()
        #expect(exists.map(\.message) == [.userExists(uid: "222222")])
        transcript.answer(exists[0].then, .success(.existence(true)))
    }

    @Test func anUploadOverTheQuotaIsRefusedInOrderBeforeStorageHearsOfIt() {
        var transcript = SessionTranscript.signedIn()
        // A text before it and a command after it, sent at once with the file's two lines.
        transcript.send("\(Self.text)\nbefore\n111111 to 222222 202004131702 file 5000\nbig.bin\n111111 friends\n")
        var actions = transcript.take()
        #expect(actions.contains(.storeText(from: "111111", to: "222222", record: Array("\(Self.text)\nbefore\n".utf8), slot: 1)))
        let exists = actions.compactMap { if case .request(.userExists, _, let then) = $0 { return then } else { return nil } }
        transcript.answer(exists[0], .success(.existence(true)))
        let reservation = transcript.takeRequests()
        #expect(reservation.map(\.message) == [.reserveStorage(uid: "111111", bytes: 5_000)])
        #expect(reservation.map(\.to) == [.auth])
        transcript.answer(reservation[0].then, .success(.storageReservation(granted: false)))
        actions = transcript.take()
        #expect(!actions.contains { if case .request(.beginUpload, _, _) = $0 { return true } else { return false } })
        // The connection reads on: `friends` is asked; the refusal waits for the text's reply.
        #expect(actions.contains(.request(.listFriends(owner: "111111"), to: .auth, then: .listFriends(3))))
        #expect(actions.written == "")
        transcript.session.replyReady(slot: 1, .targetUserOffline)
        transcript.answer(.listFriends(3), .success(.friendList([])))
        transcript.answer(.friendsPresence(3, friends: []), .success(.presence([])))
        #expect(transcript.takeWritten() == "Target user offline\nStorage quota exceeded\nfriends\n")
    }

    @Test func theContractsRefusalsComeFirstAndCostNoReservation() {
        var settings = ClientSession.Settings()
        settings.maxFileBytes = 10
        var transcript = SessionTranscript.signedIn(settings: settings)
        Self.offeringFile(size: 11, to: &transcript)
        #expect(transcript.take() == [.write(Array("File too large\n".utf8))])
        Self.offeringFile(size: 5, name: "a/b", to: &transcript)
        #expect(transcript.take() == [.write(Array("Invalid file name\n".utf8))])
    }

    @Test func anEmptyFileNeedsNoReservation() {
        var transcript = SessionTranscript.signedIn()
        Self.offeringFile(size: 0, to: &transcript)
        #expect(transcript.takeRequests().map(\.to) == [.storage(Self.pair)])
    }

    @Test func aReservationAuthDoesNotAnswerIsKept() {
        var transcript = SessionTranscript.signedIn()
        Self.offeringFile(size: 500, to: &transcript)
        let reservation = transcript.takeRequests()
        transcript.answer(reservation[0].then, .failure(.timedOut))
        // Auth may have counted it: never given back for bytes it may not have counted.
        #expect(transcript.take() == [.write(Array("Service unavailable\n".utf8))])
    }

    /// A file of `size` bytes to 222222, reserved and past storage's go-ahead (upload 9).
    static func uploading(size: Int64, to transcript: inout SessionTranscript) {
        offeringFile(size: size, to: &transcript)
        let reservation = transcript.takeRequests()
        transcript.answer(reservation[0].then, .success(.storageReservation(granted: true)))
        let begin = transcript.takeRequests()
        #expect(begin.map(\.message).count == 1)
        transcript.answer(begin[0].then, .success(.uploadReady(upload: 9)))
        #expect(transcript.takeWritten() == "ok\n")
    }

    static let release = SessionAction.send(.releaseStorage(uid: "111111", bytes: 500), to: .auth)

    @Test func storageRefusingToBeginGivesTheReservationBack() {
        var transcript = SessionTranscript.signedIn()
        Self.offeringFile(size: 500, to: &transcript)
        transcript.answer(transcript.takeRequests()[0].then, .success(.storageReservation(granted: true)))
        transcript.answer(transcript.takeRequests()[0].then, .success(.failure("partition not owned")))
        #expect(transcript.take() == [Self.release, .write(Array("Service unavailable\n".utf8))])
    }

    @Test func theClientLeavingMidUploadGivesTheReservationBack() {
        var transcript = SessionTranscript.signedIn()
        Self.uploading(size: 500, to: &transcript)
        transcript.send([UInt8](repeating: 1, count: 100))
        _ = transcript.take()
        transcript.session.disconnected()
        let actions = transcript.take()
        #expect(actions.contains(.send(.abortUpload(upload: 9), to: .storage(Self.pair))))
        #expect(actions.filter { $0 == Self.release }.count == 1)
    }

    @Test func aFailedUploadGivesItBackOnceEvenIfTheClientThenLeaves() {
        var transcript = SessionTranscript.signedIn()
        Self.uploading(size: 500, to: &transcript)
        transcript.send([UInt8](repeating: 1, count: 500))
        let chunk = transcript.takeRequests()
        transcript.answer(chunk[0].then, .success(.failure("disk full")))
        let actions = transcript.take()
        #expect(actions.filter { $0 == Self.release }.count == 1)
        #expect(actions.written == "Service unavailable\n")
        transcript.session.disconnected()
        #expect(!transcript.take().contains(Self.release))
    }

    @Test func aStoredUploadStaysCounted() {
        var transcript = SessionTranscript.signedIn()
        Self.uploading(size: 500, to: &transcript)
        transcript.send([UInt8](repeating: 1, count: 500))
        transcript.answer(transcript.takeRequests()[0].then, .success(.chunkStored))
        let finish = transcript.takeRequests()
        #expect(finish.map(\.message) == [.finishUpload(upload: 9)])
        transcript.answer(finish[0].then, .success(.stored(record: [1])))
        transcript.answer(transcript.takeRequests()[0].then, .success(.delivery(.recipientOffline)))
        transcript.session.disconnected()
        #expect(!transcript.take().contains(Self.release))
    }

    @Test func aFinishStorageRefusesIsGivenBackAndOneUnansweredIsNot() {
        for (answer, released) in [(Result<BusMessage, BusRequestError>.success(.failure("upload incomplete")), true),
                                   (.failure(.timedOut), false)] {
            var transcript = SessionTranscript.signedIn()
            Self.uploading(size: 500, to: &transcript)
            transcript.send([UInt8](repeating: 1, count: 500))
            transcript.answer(transcript.takeRequests()[0].then, .success(.chunkStored))
            transcript.answer(transcript.takeRequests()[0].then, answer)
            let actions = transcript.take()
            #expect(actions.contains(Self.release) == released, "\(answer)")
            #expect(actions.written == "Service unavailable\n")
        }
    }
}
