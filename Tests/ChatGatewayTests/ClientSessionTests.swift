import ChatBus
import ChatProtocol
@testable import ChatGateway
import NIOCore
import Testing

/// The session state machine alone: each step an event in, the actions it asks for out.
@Suite struct ClientSessionTests {
    let text = "111111 to 222222 202004131702 text"

    @Test func connectingArmsTheLoginDeadline() {
        var session = ClientSession(connectionId: 1, settings: ClientSession.Settings())
        session.connected(remoteAddress: "198.51.100.1:1")
        #expect(session.takeActions() == [.schedule(.login, after: .seconds(60))])
        session.timerFired(.login)
        #expect(session.takeActions() == [.close(.loginTimeout)])
    }

    @Test func signInAsksAuthThenTheRouterThenAnswers() {
        var transcript = SessionTranscript()
        transcript.send("signin 111111 \(SessionTranscript.password)\n")
        let signIn = transcript.take()
        #expect(signIn == [.request(.signIn(uid: "111111", password: SessionTranscript.password), to: .auth, then: .signIn(0, uid: "111111"))])

        transcript.answer(.signIn(0, uid: "111111"), .success(.authOutcome(.signedIn)))
        let entry = PresenceEntry(uid: "111111", connection: 7, publicAddress: "198.51.100.7:40000")
        #expect(transcript.take() == [.request(.attach(entry), to: .router, then: .attach(0, uid: "111111"))])

        transcript.answer(.attach(0, uid: "111111"), .success(.attached))
        #expect(transcript.take() == [.note(.signedIn(uid: "111111")), .write(Array("signin successfully\n".utf8))])
        #expect(transcript.session.phase == .session(uid: "111111"))
        // Signed in, the login deadline no longer closes anything.
        transcript.session.timerFired(.login)
        #expect(transcript.take() == [])
    }

    @Test func linesAfterAGatingCommandWaitForItsReply() {
        var transcript = SessionTranscript()
        transcript.send("signin 111111 \(SessionTranscript.password)\nbogus\n")
        #expect(transcript.takeRequests().count == 1)
        #expect(transcript.session.awaitingGatingReply)

        transcript.answer(.signIn(0, uid: "111111"), .success(.authOutcome(.wrongPassword)))
        // Only now is `bogus` read, and answered after the sign-in's reply.
        #expect(transcript.takeWritten() == "Wrong Password\nWrong sign command\n")
        #expect(transcript.session.phase == .login)
    }

    @Test func signInWhileTheRouterIsDownStaysInTheLoginPhase() {
        var transcript = SessionTranscript()
        transcript.send("signin 111111 \(SessionTranscript.password)\n")
        _ = transcript.take()
        transcript.answer(.signIn(0, uid: "111111"), .success(.authOutcome(.signedIn)))
        _ = transcript.take()
        transcript.answer(.attach(0, uid: "111111"), .failure(.timedOut))
        #expect(transcript.take() == [.send(.detach(uid: "111111", connection: 7), to: .router),
                                      .write(Array("Service unavailable\n".utf8))])
        #expect(transcript.session.phase == .login)
    }

    @Test func pipelinedCommandsAreAnsweredInCommandOrderAcrossWorkers() {
        var transcript = SessionTranscript.signedIn()
        transcript.send("\(text)\nfirst\n111111 friends\n\(text)\nsecond\n")
        let actions = transcript.take()
        let texts = actions.compactMap { action -> ReplySequencer.Slot? in
            if case .storeText(_, _, _, let slot) = action { return slot }
            return nil
        }
        let friends = actions.compactMap { action -> PendingRequest? in
            if case .request(_, _, let then) = action { return then }
            return nil
        }
        #expect(texts == [1, 3])
        #expect(friends == [.listFriends(2)])

        // Answers arrive last first: nothing may be written before the first command's reply.
        transcript.session.replyReady(slot: 3, .targetUserOffline)
        transcript.answer(.listFriends(2), .success(.friendList([])))
        transcript.answer(.friendsPresence(2, friends: []), .success(.presence([])))
        #expect(transcript.takeWritten() == "")
        transcript.session.replyReady(slot: 1, .ok)
        #expect(transcript.takeWritten() == "ok\nfriends\nTarget user offline\n")
    }

    @Test func aTextIsStoredAsItsTwoLines() {
        var transcript = SessionTranscript.signedIn()
        transcript.send("\(text)\r\nhello there\n")
        #expect(transcript.take() == [.storeText(from: "111111", to: "222222", record: Array("\(text)\nhello there\n".utf8), slot: 1)])
    }

    @Test func aTooLongContentLineRefusesTheWholeCommandOnce() {
        var settings = ClientSession.Settings()
        settings.maxBufferedInput = 1 << 20
        var transcript = SessionTranscript.signedIn(settings: settings)
        let long = String(repeating: "x", count: LineFramer.protocolMaxLineLength + 10)
        transcript.send("\(text)\n\(long)\n111111 friends\n")
        let actions = transcript.take()
        #expect(actions.written == "Message too long\n")
        #expect(!actions.contains { if case .storeText = $0 { return true } else { return false } })
        #expect(actions.contains(.request(.listFriends(owner: "111111"), to: .auth, then: .listFriends(2))))
    }

    @Test func aRefusedHeaderTakesItsContentLineWithIt() {
        var transcript = SessionTranscript.signedIn()
        transcript.send("222222 to 333333 202004131702 text\n111111 friends\n")
        // The second line is the refused message's content, not a command.
        #expect(transcript.take() == [.write(Array("Permission denied\n".utf8))])
    }

    @Test func historyExchangeHoldsPushesUntilTheAnswer() {
        var transcript = SessionTranscript.signedIn()
        transcript.send("111111 history 222222 all\n")
        let pair = PairKey("111111", "222222")
        #expect(transcript.take() == [.request(.userExists(uid: "222222"), to: .auth, then: .userExists(1, then: .openHistory(pair)))])
        transcript.answer(.userExists(1, then: .openHistory(pair)), .success(.existence(true)))
        #expect(transcript.take() == [.request(.openHistory(pair: pair), to: .storage(pair), then: .openHistory(1, pair: pair))])
        let records = Array("\(text)\nhi\n".utf8)
        transcript.answer(.openHistory(1, pair: pair), .success(.historySnapshot(through: 3, size: Int64(records.count))))
        #expect(transcript.takeWritten() == "server_data_size\(records.count)\n")

        // A push now would land inside the data: it waits for the exchange to end.
        transcript.session.push(Array("333333 to 111111 addFriend\n".utf8))
        #expect(transcript.take() == [])
        transcript.send("ok\n")
        #expect(transcript.takeRequests().map(\.message) == [.readHistory(pair: pair, after: 0, through: 3, maxBytes: 256 * 1024)])
        transcript.answer(.historyPage(download: 1), .success(.historyPage(last: 3, bytes: records)))
        #expect(transcript.takeWritten() == "\(text)\nhi\n333333 to 111111 addFriend\n")
    }

    @Test func anyAnswerButOkCancelsTheHistoryAndIsNotACommand() {
        var transcript = SessionTranscript.signedIn()
        transcript.offerHistory([1, 2, 3])
        _ = transcript.take()
        transcript.send("111111 friends\n")
        #expect(transcript.take() == [])
    }

    @Test func historyWithAnUnknownPeer() {
        var transcript = SessionTranscript.signedIn()
        transcript.send("111111 history 222222 all\n")
        transcript.answer(.userExists(1, then: .openHistory(PairKey("111111", "222222"))), .success(.existence(false)))
        #expect(transcript.takeWritten() == "uid not exits\n")
    }

    @Test func offlineSendsTheRepliesOwedThenCloses() {
        var transcript = SessionTranscript.signedIn()
        transcript.send("\(text)\nhi\noffline\n111111 friends\n")
        let actions = transcript.take()
        #expect(actions.closeReason == nil)
        // Signed in with the password and never asked for a ticket: no tickets to revoke.
        #expect(actions.count == 1)
        transcript.session.replyReady(slot: 1, .ok)
        #expect(transcript.take() == [.write(Array("ok\n".utf8)), .close(.offline)])
        transcript.session.disconnected()
        #expect(transcript.take() == [.send(.detach(uid: "111111", connection: 7), to: .router)])
    }

    @Test func signInElsewhereSaysSoAndSendsNoDetach() {
        var transcript = SessionTranscript.signedIn()
        transcript.send("\(text)\nhi\n")
        _ = transcript.take()
        transcript.session.kick()
        #expect(transcript.take() == [.write(Array("Signed in elsewhere\n".utf8)), .close(.signedInElsewhere)])
        // The reply still owed is dropped, and the router already moved the user.
        transcript.session.replyReady(slot: 1, .ok)
        transcript.session.disconnected()
        #expect(transcript.take() == [])
    }

    @Test func tooManyRepliesOwedStopsReadingLines() {
        var settings = ClientSession.Settings()
        settings.maxOutstandingReplies = 2
        var transcript = SessionTranscript.signedIn(settings: settings)
        transcript.send("111111 friends\n111111 friends\n111111 friends\n")
        #expect(transcript.takeRequests().count == 2)
        transcript.answer(.listFriends(1), .failure(.timedOut))
        let actions = transcript.take()
        #expect(actions.written == "Service unavailable\n")
        #expect(actions.contains(.request(.listFriends(owner: "111111"), to: .auth, then: .listFriends(3))))
    }

    @Test func aHalfSentLineIsClosedAfterTheDeadline() {
        var transcript = SessionTranscript.signedIn()
        transcript.send("111111 frie")
        #expect(transcript.take() == [.schedule(.partialLine(generation: 0), after: .seconds(60))])
        transcript.session.timerFired(.partialLine(generation: 0))
        #expect(transcript.take() == [.close(.partialLineTimeout)])
    }

    @Test func linesThatKeepCompletingRestartThePartialLineDeadline() {
        var transcript = SessionTranscript.signedIn()
        transcript.send("111111 frie")
        _ = transcript.take()
        transcript.send("nds\n111111 fr")
        _ = transcript.take()
        transcript.session.timerFired(.partialLine(generation: 0))
        #expect(transcript.take() == [.schedule(.partialLine(generation: 0), after: .seconds(60))])
        transcript.send("iends\n")
        _ = transcript.take()
        // The line was finished: the old deadline is stale.
        transcript.session.timerFired(.partialLine(generation: 0))
        #expect(transcript.take() == [])
    }

    @Test func aBacklogOfLinesBehindAGateStopsReading() {
        var settings = ClientSession.Settings()
        settings.maxBufferedInput = 64
        var transcript = SessionTranscript(settings: settings)
        transcript.send("signin 111111 \(SessionTranscript.password)\n" + String(repeating: "bogus\n", count: 20))
        #expect(transcript.take().contains(.setReading(false)))
        transcript.answer(.signIn(0, uid: "111111"), .success(.authOutcome(.wrongPassword)))
        let actions = transcript.take()
        #expect(actions.contains(.setReading(true)))
        #expect(actions.written == "Wrong Password\n" + String(repeating: "Wrong sign command\n", count: 20))
    }

    /// A file upload of `size` bytes to 222222, past storage's go-ahead (upload id 9).
    private func uploading(size: Int64, settings: ClientSession.Settings = ClientSession.Settings()) -> SessionTranscript {
        var transcript = SessionTranscript.signedIn(settings: settings)
        transcript.send("111111 to 222222 202004131702 file \(size)\nnotes.txt\n")
        let exists = transcript.takeRequests()
        #expect(exists.map(\.message) == [.userExists(uid: "222222")])
        transcript.answer(exists[0].then, .success(.existence(true)))
        let reservation = transcript.takeRequests()
        #expect(reservation.map(\.message) == [.reserveStorage(uid: "111111", bytes: size)])
        transcript.answer(reservation[0].then, .success(.storageReservation(granted: true)))
        let begin = transcript.takeRequests()
        #expect(begin.map(\.message) == [.beginUpload(pair: PairKey("111111", "222222"), header: Array("111111 to 222222 202004131702 file \(size)".utf8),
                                                      name: "notes.txt", size: size)])
        transcript.answer(begin[0].then, .success(.uploadReady(upload: 9)))
        return transcript
    }

    @Test func anUploadThatStallsIsClosed() {
        var settings = ClientSession.Settings()
        settings.minUploadBytesPerSecond = 0
        var transcript = uploading(size: 100, settings: settings)
        let actions = transcript.take()
        #expect(actions.written == "ok\n")
        #expect(actions.contains(.schedule(.uploadIdle(upload: 1), after: .seconds(60))))
        transcript.send([UInt8](repeating: 1, count: 10))
        transcript.session.timerFired(.uploadIdle(upload: 1))
        #expect(transcript.take().last == .schedule(.uploadIdle(upload: 1), after: .seconds(60)))
        transcript.session.timerFired(.uploadIdle(upload: 1))
        #expect(transcript.take() == [.close(.uploadStalled)])
    }

    @Test func aFileTooLargeIsRefusedBeforeStorageIsAsked() {
        var settings = ClientSession.Settings()
        settings.maxFileBytes = 10
        var transcript = SessionTranscript.signedIn(settings: settings)
        transcript.send("111111 to 222222 202004131702 file 11\nnotes.txt\n")
        let requests = transcript.takeRequests()
        transcript.answer(requests[0].then, .success(.existence(true)))
        #expect(transcript.take() == [.write(Array("File too large\n".utf8))])
    }

    @Test func storageFailingMidUploadReadsTheRestThenSaysSo() {
        var transcript = uploading(size: Int64(Upload.chunkSize) + 10)
        _ = transcript.take()
        transcript.send([UInt8](repeating: 1, count: Upload.chunkSize))
        let chunk = transcript.takeRequests()
        #expect(chunk.map(\.then) == [.uploadChunk(upload: 1, offset: 0, byteCount: Upload.chunkSize)])
        transcript.answer(.uploadChunk(upload: 1, offset: 0, byteCount: Upload.chunkSize), .success(.failure("disk full")))
        #expect(transcript.take() == [.note(.uploadFailed(upload: 9, reason: "chunk answered success(ChatBus.BusMessage.failure(\"disk full\"))")), .send(.abortUpload(upload: 9), to: .storage(PairKey("111111", "222222"))),
                                      .send(.releaseStorage(uid: "111111", bytes: Int64(Upload.chunkSize) + 10), to: .auth)])
        // The announced bytes still arrive and are dropped; only then the reply.
        transcript.send([UInt8](repeating: 1, count: 10))
        #expect(transcript.takeWritten() == "Service unavailable\n")
    }

    @Test func anUploadWhosePartitionMovesResumesAtTheNewOwnerAfterTheConfirmedBytes() {
        let size = Int64(2 * Upload.chunkSize + 10)
        let pair = PairKey("111111", "222222")
        var transcript = uploading(size: size)
        _ = transcript.take()
        let first = [UInt8](repeating: 1, count: Upload.chunkSize), second = [UInt8](repeating: 2, count: Upload.chunkSize)
        transcript.send(first + second)
        #expect(transcript.takeRequests().map(\.then) == [.uploadChunk(upload: 1, offset: 0, byteCount: Upload.chunkSize),
                                                          .uploadChunk(upload: 1, offset: Int64(Upload.chunkSize), byteCount: Upload.chunkSize)])
        let moved = PartitionMap.initial(partitions: 4, workers: ["tcp://a", "tcp://b"])
        // The old worker let the partition go: the second chunk is answered first, the first
        // (written before) after it; only then does the upload resume, after the first.
        transcript.answer(.uploadChunk(upload: 1, offset: Int64(Upload.chunkSize), byteCount: Upload.chunkSize), .success(.partitionMoved(moved)))
        #expect(transcript.takeRequests().isEmpty)
        transcript.answer(.uploadChunk(upload: 1, offset: 0, byteCount: Upload.chunkSize), .success(.chunkStored))
        let resume = transcript.takeRequests()
        #expect(resume.map(\.message) == [.resumeUpload(pair: pair, header: Array("111111 to 222222 202004131702 file \(size)".utf8),
                                                        name: "notes.txt", size: size, upload: 9, received: Int64(Upload.chunkSize))])
        #expect(resume.map(\.then) == [.resumeUpload(upload: 1, pair: pair)])
        transcript.answer(.resumeUpload(upload: 1, pair: pair), .success(.uploadReady(upload: 9)))
        // The unconfirmed chunk goes again, to the same id, then the rest and the finish.
        let again = transcript.takeRequests()
        #expect(again.map(\.message) == [.uploadChunk(upload: 9, bytes: second)])
        transcript.send([UInt8](repeating: 3, count: 10))
        #expect(transcript.takeRequests().map(\.message) == [.uploadChunk(upload: 9, bytes: [UInt8](repeating: 3, count: 10))])
        transcript.answer(.uploadChunk(upload: 1, offset: Int64(Upload.chunkSize), byteCount: Upload.chunkSize), .success(.chunkStored))
        transcript.answer(.uploadChunk(upload: 1, offset: Int64(2 * Upload.chunkSize), byteCount: 10), .success(.chunkStored))
        let finish = transcript.takeRequests()
        #expect(finish.map(\.message) == [.finishUpload(upload: 9)])
        // Moved once more before it was made durable: resumed with every byte, then finished.
        transcript.answer(finish[0].then, .success(.partitionMoved(moved)))
        let last = transcript.takeRequests()
        #expect(last.map(\.message) == [.resumeUpload(pair: pair, header: Array("111111 to 222222 202004131702 file \(size)".utf8),
                                                      name: "notes.txt", size: size, upload: 9, received: size)])
        transcript.answer(.resumeUpload(upload: 1, pair: pair), .success(.uploadReady(upload: 9)))
        #expect(transcript.takeRequests().map(\.message) == [.finishUpload(upload: 9)])
    }

    @Test func anUploadThatCannotResumeReadsTheRestThenSaysSo() {
        let pair = PairKey("111111", "222222")
        var transcript = uploading(size: Int64(Upload.chunkSize) + 10)
        _ = transcript.take()
        transcript.send([UInt8](repeating: 1, count: Upload.chunkSize))
        _ = transcript.takeRequests()
        transcript.answer(.uploadChunk(upload: 1, offset: 0, byteCount: Upload.chunkSize),
                          .success(.partitionMoved(PartitionMap.initial(partitions: 4, workers: ["tcp://a"]))))
        #expect(transcript.takeRequests().map(\.then) == [.resumeUpload(upload: 1, pair: pair)])
        transcript.answer(.resumeUpload(upload: 1, pair: pair), .success(.failure("no such file")))
        #expect(transcript.take().contains(.send(.releaseStorage(uid: "111111", bytes: Int64(Upload.chunkSize) + 10), to: .auth)))
        transcript.send([UInt8](repeating: 1, count: 10))
        #expect(transcript.takeWritten() == "Service unavailable\n")
    }

    /// A chunked download whose worker went with a move (the bus answers for it with the
    /// map): the file is opened again at the partition's owner and read on from the next
    /// byte; what the worker that went still answers is dropped.
    @Test func aDownloadWhoseWorkerWentWithAMoveIsOpenedAgainAtTheOwner() {
        var settings = ClientSession.Settings()
        settings.sendLocalFiles = false
        var transcript = SessionTranscript.signedIn(settings: settings)
        transcript.send("111111 history 222222 filename notes.txt\n")
        let pair = PairKey("111111", "222222")
        let chunk = Download.chunkSize, size = 3 * Download.chunkSize
        transcript.answer(.userExists(1, then: .openDownload(pair, name: "notes.txt")), .success(.existence(true)))
        transcript.answer(.openDownload(1, pair: pair, name: "notes.txt"), .success(.downloadReady(download: 4, size: Int64(size), path: "/x")))
        #expect(transcript.takeWritten() == "server_data_size\(size)\n")
        transcript.send("ok\n")
        let reads = transcript.takeRequests()
        #expect(reads.map(\.then) == (0..<3).map { .readChunk(download: 1, storageId: 4, offset: Int64($0 * chunk), length: chunk) })
        transcript.answer(reads[0].then, .success(.chunk([UInt8](repeating: 1, count: chunk))))
        #expect(transcript.take().contains(.write([UInt8](repeating: 1, count: chunk))))
        transcript.answer(reads[1].then, .success(.partitionMoved(PartitionMap.initial(partitions: 4, workers: ["tcp://a"]))))
        let reopen = transcript.take()
        #expect(reopen.contains(.note(.downloadReopened(download: 4))))
        #expect(reopen.contains(.send(.closeDownload(download: 4), to: .storage(pair))))
        #expect(reopen.contains(.request(.openDownload(pair: pair, name: "notes.txt"), to: .storage(pair),
                                         then: .reopenDownload(download: 1, pair: pair))))
        transcript.answer(.reopenDownload(download: 1, pair: pair), .success(.downloadReady(download: 8, size: Int64(size), path: "/x")))
        let again = transcript.takeRequests()
        // The third read of the worker that went, answered for it only now (its timeout):
        // dropped, not a second move nor a failure.
        transcript.answer(reads[2].then, .success(.partitionMoved(PartitionMap.initial(partitions: 4, workers: ["tcp://a"]))))
        #expect(transcript.take().isEmpty, "dropped")
        #expect(again.map(\.message) == [.readChunk(download: 8, offset: Int64(chunk), length: UInt32(chunk)),
                                         .readChunk(download: 8, offset: Int64(2 * chunk), length: UInt32(chunk))])
        transcript.answer(again[0].then, .success(.chunk([UInt8](repeating: 2, count: chunk))))
        transcript.answer(again[1].then, .success(.chunk([UInt8](repeating: 3, count: chunk))))
        let end = transcript.take()
        #expect(end.contains(.write([UInt8](repeating: 3, count: chunk))))
        #expect(end.contains(.send(.closeDownload(download: 8), to: .storage(pair))))
    }

    @Test func aDownloadTheClientStopsReadingIsClosed() {
        var settings = ClientSession.Settings()
        settings.sendLocalFiles = false
        var transcript = SessionTranscript.signedIn(settings: settings)
        transcript.send("111111 history 222222 filename notes.txt\n")
        let pair = PairKey("111111", "222222")
        transcript.answer(.userExists(1, then: .openDownload(pair, name: "notes.txt")), .success(.existence(true)))
        transcript.answer(.openDownload(1, pair: pair, name: "notes.txt"), .success(.downloadReady(download: 4, size: 10, path: "/x")))
        #expect(transcript.takeWritten() == "server_data_size10\n")
        transcript.send("ok\n")
        let actions = transcript.take()
        #expect(actions.contains(.schedule(.downloadStall(download: 1), after: .seconds(60))))
        #expect(actions.contains(.request(.readChunk(download: 4, offset: 0, length: 10), to: .storage(pair),
                                          then: .readChunk(download: 1, storageId: 4, offset: 0, length: 10))))
        transcript.session.downloadStallCheck(download: 1, unsentBytes: 5000)
        #expect(transcript.take() == [.schedule(.downloadStall(download: 1), after: .seconds(60))])
        transcript.session.downloadStallCheck(download: 1, unsentBytes: 5000)
        #expect(transcript.take() == [.close(.downloadStalled)])
        transcript.session.disconnected()
        #expect(transcript.take().contains(.send(.closeDownload(download: 4), to: .storage(pair))))
    }

    @Test func aRelayConnectionWhosePartnerNeverComesIsClosed() {
        var transcript = SessionTranscript()
        let token = String(repeating: "0f", count: 16), key = String(repeating: "1e", count: 16)
        transcript.send("p2p relay \(token) \(key)\n")
        #expect(transcript.take() == [.request(.p2pRelayCheck(token: token, key: key), to: .router, then: .relayCheck(0, token: token))])
        transcript.answer(.relayCheck(0, token: token), .success(.p2pRelayAllowed(offeredSize: 10)))
        #expect(transcript.take() == [.joinRelay(token: token)])
        transcript.session.waitForRelayPartner()
        #expect(transcript.take() == [.schedule(.relayPartner, after: .seconds(30))])
        transcript.session.timerFired(.relayPartner)
        #expect(transcript.take() == [.leaveRelay(token: token), .close(.relayPartnerMissing)])
    }

    /// Once its side is closed, a relay passes nothing more on, whatever is still read.
    @Test func aClosedRelaySideForwardsNothing() {
        var transcript = SessionTranscript()
        let token = String(repeating: "0f", count: 16), key = String(repeating: "1e", count: 16)
        transcript.send("p2p relay \(token) \(key)\n")
        transcript.answer(.relayCheck(0, token: token), .success(.p2pRelayAllowed(offeredSize: 1000)))
        transcript.session.relayStarted()
        _ = transcript.take()
        transcript.send([1, 2, 3])
        #expect(transcript.take().contains(.relayForward([1, 2, 3])))
        transcript.session.close(.relayOverCap)
        _ = transcript.take()
        transcript.send([4, 5, 6])
        #expect(!transcript.take().contains(.relayForward([4, 5, 6])))
    }

    @Test func anUnknownRelayTokenIsNoSuchTransfer() {
        var transcript = SessionTranscript()
        let token = String(repeating: "0f", count: 16), key = String(repeating: "1e", count: 16)
        transcript.send("p2p relay \(token) \(key)\n")
        transcript.answer(.relayCheck(0, token: token), .success(.p2pUnknown))
        #expect(transcript.takeWritten() == "No such transfer\n")
    }

    @Test func aKeylessRelayIsRefusedWithoutAskingTheRouter() {
        var transcript = SessionTranscript()
        transcript.send("p2p relay \(String(repeating: "0f", count: 16))\n")
        #expect(transcript.take() == [.write(Array("No such transfer\n".utf8))])
    }

    @Test func aTransferTooLargeToRelayIsRefused() {
        var settings = ClientSession.Settings()
        settings.relayMaxBytes = 1000
        var transcript = SessionTranscript(settings: settings)
        let token = String(repeating: "0f", count: 16), key = String(repeating: "1e", count: 16)
        transcript.send("p2p relay \(token) \(key)\n")
        transcript.answer(.relayCheck(0, token: token), .success(.p2pRelayAllowed(offeredSize: 1001)))
        #expect(transcript.takeWritten() == "No such transfer\n")
        #expect(transcript.session.phase == .login)
    }

    @Test func tooManyOffersHasItsOwnReply() {
        var transcript = SessionTranscript.signedIn()
        let sha = String(repeating: "ab", count: 32)
        transcript.send("111111 p2p offer 222222 5 \(sha) 198.51.100.7:40000 photo.jpg\n")
        transcript.answer(.p2p(1), .success(.p2pTooManyOffers))
        #expect(transcript.takeWritten() == "Too many offers, try again later\n")
    }

    @Test func loginPhaseReplies() {
        var transcript = SessionTranscript()
        transcript.send("signup 123\n111111 to 222222 addFriend\nsignup 111111 \(SessionTranscript.password)\n")
        #expect(transcript.take() == [.write(Array("Wrong sign command\n".utf8)),
                                      .write(Array("Wrong sign command\n".utf8)),
                                      .request(.signUp(uid: "111111", password: SessionTranscript.password), to: .auth, then: .signUp(2))])
        transcript.answer(.signUp(2), .success(.authOutcome(.uidTaken)))
        #expect(transcript.takeWritten() == "uid already exists\n")
        transcript.send("signup 222222 \(SessionTranscript.password)\n")
        transcript.answer(.signUp(3), .success(.authOutcome(.signedUp)))
        #expect(transcript.takeWritten() == "signup successfully\n")
        transcript.send("offline\n")
        #expect(transcript.take() == [.close(.offline)])
    }

    @Test func aNewFriendIsToldAndAnOldOneIsNot() {
        var transcript = SessionTranscript.signedIn()
        transcript.send("111111 to 222222 addFriend\n111111 to 222222 addFriend\n")
        #expect(transcript.takeRequests().map(\.then) == [.addFriend(1, owner: "111111", peer: "222222"),
                                                          .addFriend(2, owner: "111111", peer: "222222")])
        transcript.answer(.addFriend(1, owner: "111111", peer: "222222"), .success(.authOutcome(.friendAdded)))
        #expect(transcript.take() == [.send(.notify(to: "222222", bytes: Array("111111 to 222222 addFriend\n".utf8)), to: .router),
                                      .write(Array("ok\n".utf8))])
        transcript.answer(.addFriend(2, owner: "111111", peer: "222222"), .success(.authOutcome(.alreadyFriends)))
        #expect(transcript.take() == [.write(Array("ok\n".utf8))])
    }

    @Test func friendsAreListedWithTheirPresence() {
        var transcript = SessionTranscript.signedIn()
        transcript.send("111111 friends\n")
        _ = transcript.take()
        transcript.answer(.listFriends(1), .success(.friendList(["222222", "333333"])))
        #expect(transcript.take() == [.request(.queryPresence(["222222", "333333"]), to: .router,
                                               then: .friendsPresence(1, friends: ["222222", "333333"]))])
        transcript.answer(.friendsPresence(1, friends: ["222222", "333333"]), .success(.presence([true, false])))
        #expect(transcript.takeWritten() == "friends 222222:online 333333:offline\n")
    }

    @Test func aTextWhoseContentIsNotUTF8IsRefused() {
        var transcript = SessionTranscript.signedIn()
        transcript.send(Array("\(text)\n".utf8) + [0xff, 0xfe, 0x0a])
        #expect(transcript.take() == [.write(Array("Wrong  interact command\n".utf8))])
    }

    @Test func peerToPeerCommandsGoToTheRouter() {
        var transcript = SessionTranscript.signedIn()
        let sha = String(repeating: "a", count: 64)
        transcript.send("111111 p2p offer 222222 5 \(sha) 198.51.100.7:40000 photo.jpg\n")
        #expect(transcript.take() == [.request(.p2pOffer(from: "111111", to: "222222", size: 5, sha256: sha, name: "photo.jpg",
                                                         privateEndpoint: "198.51.100.7:40000"), to: .router, then: .p2p(1))])
        let token = String(repeating: "0f", count: 16)
        transcript.answer(.p2p(1), .success(.p2pOffered(token: token)))
        #expect(transcript.takeWritten() == "p2p offered \(token)\n")
        transcript.send("111111 p2p decline \(token)\n")
        transcript.answer(.p2p(2), .success(.p2pUnknown))
        #expect(transcript.takeWritten() == "No such transfer\n")
    }

    @Test func anUploadStoredAfterItsSenderLeftIsStillAnnounced() {
        var transcript = uploading(size: 4)
        _ = transcript.take()
        transcript.send([1, 2, 3, 4])
        let chunk = transcript.takeRequests()
        transcript.answer(chunk[0].then, .success(.chunkStored))
        let finish = transcript.takeRequests()
        #expect(finish.map(\.then) == [.finishUpload(upload: 1, from: "111111", to: "222222")])
        // The sender leaves while storage makes the file durable: nothing is aborted...
        transcript.session.disconnected()
        #expect(!transcript.take().contains { if case .send(.abortUpload, _) = $0 { true } else { false } })
        // ...and once it is stored, the recipient is still told.
        transcript.answer(finish[0].then, .success(.stored(record: [1])))
        #expect(transcript.take() == [.request(.announce(from: "111111", to: "222222", record: [1]), to: .router, then: .announce(upload: 1))])
    }

    @Test func aTooLongAnswerToServerDataSizeCancelsAndSaysSo() {
        var settings = ClientSession.Settings()
        settings.maxBufferedInput = 1 << 20
        var transcript = SessionTranscript.signedIn(settings: settings)
        transcript.offerHistory([1, 2, 3])
        #expect(transcript.takeWritten() == "server_data_size3\n")
        transcript.session.push(Array("333333 to 111111 addFriend\n".utf8))
        transcript.send(String(repeating: "o", count: LineFramer.protocolMaxLineLength + 1) + "\n")
        // No data; the held push, then the refusal, in that order.
        #expect(transcript.takeWritten() == "333333 to 111111 addFriend\nMessage too long\n")
    }

    @Test func anUnansweredServerDataSizeClosesAfterItsDeadline() {
        var transcript = SessionTranscript.signedIn()
        transcript.offerHistory([1, 2, 3])
        #expect(transcript.take().suffix(2) == [.schedule(.dataAnswer(offer: 1), after: .seconds(60)), .write(Array("server_data_size3\n".utf8))])
        transcript.session.timerFired(.dataAnswer(offer: 1))
        #expect(transcript.take() == [.close(.dataAnswerTimeout)])
    }

    @Test func anAnsweredServerDataSizeOutlivesItsDeadline() {
        var transcript = SessionTranscript.signedIn()
        transcript.offerHistory([1, 2, 3])
        transcript.send("no\n")
        _ = transcript.take()
        transcript.session.timerFired(.dataAnswer(offer: 1))
        #expect(transcript.take() == [])
    }

    @Test func anUploadThatCrawlsIsClosed() {
        var settings = ClientSession.Settings()
        settings.partialLineTimeout = .seconds(10)
        settings.minUploadBytesPerSecond = 100
        var transcript = uploading(size: 5_000, settings: settings)
        _ = transcript.take()
        // 1,000 bytes in the first ten seconds: the rate. Then 999: under it.
        transcript.send([UInt8](repeating: 1, count: 1_000))
        transcript.session.timerFired(.uploadIdle(upload: 1))
        #expect(transcript.take().last == .schedule(.uploadIdle(upload: 1), after: .seconds(10)))
        transcript.send([UInt8](repeating: 1, count: 999))
        transcript.session.timerFired(.uploadIdle(upload: 1))
        #expect(transcript.take() == [.close(.uploadStalled)])
    }
}
