import ChatBus
import ChatProtocol
@testable import ChatGateway
import Testing

/// `history ... all` streamed from storage: a snapshot offered as `server_data_size<N>`, then
/// pages asked for one at a time, only while the client reads.
@Suite struct HistoryStreamTests {
    let pair = PairKey("111111", "222222")

    /// Signed in, offered a history of `byteCount` bytes up to record 30, and answered `ok`.
    func streaming(byteCount: Int, pageBytes: Int = 4) -> SessionTranscript {
        var settings = ClientSession.Settings()
        settings.historyPageBytes = pageBytes
        var transcript = SessionTranscript.signedIn(settings: settings)
        transcript.offerHistory(byteCount: byteCount, through: 30)
        #expect(transcript.takeWritten() == "server_data_size\(byteCount)\n")
        transcript.send("ok\n")
        return transcript
    }

    func page(_ transcript: inout SessionTranscript, last: Int64, _ text: String) {
        transcript.answer(.historyPage(download: 1), .success(.historyPage(last: last, bytes: Array(text.utf8))))
    }

    @Test func aHistoryGoesOutAPageAtATimeAndOnlyWhileTheClientReads() {
        var transcript = streaming(byteCount: 10)
        let started = transcript.take()
        // Pages are small: the connection keeps its default write buffer.
        #expect(!started.contains(.useDownloadWriteBuffer(true)))
        #expect(started.contains(.request(.readHistory(pair: pair, after: 0, through: 30, maxBytes: 4), to: .storage(pair),
                                          then: .historyPage(download: 1))))
        // Each page starts where the one before ended; one in flight at a time.
        page(&transcript, last: 12, "abcd")
        #expect(transcript.take() == [.write(Array("abcd".utf8)),
                                      .request(.readHistory(pair: pair, after: 12, through: 30, maxBytes: 4), to: .storage(pair),
                                               then: .historyPage(download: 1))])
        // The client stops reading: the page in flight is written, no next one is asked for.
        transcript.session.writabilityChanged(isWritable: false)
        _ = transcript.take()
        page(&transcript, last: 20, "efgh")
        #expect(transcript.take() == [.write(Array("efgh".utf8))])
        transcript.session.writabilityChanged(isWritable: true)
        #expect(transcript.takeRequests().map(\.message) == [.readHistory(pair: pair, after: 20, through: 30, maxBytes: 4)])
        // The last page ends the exchange: commands are read again.
        page(&transcript, last: 30, "ij")
        let finished = transcript.take()
        #expect(finished.written == "ij")
        #expect(!finished.contains { if case .send = $0 { return true } else { return false } })
        transcript.send("111111 friends\n")
        #expect(transcript.takeRequests().map(\.message) == [.listFriends(owner: "111111")])
    }

    @Test func pushesWaitForTheLastPage() {
        var transcript = streaming(byteCount: 6)
        _ = transcript.take()
        transcript.session.push(Array("333333 to 111111 addFriend\n".utf8))
        page(&transcript, last: 7, "abcd")
        #expect(transcript.takeWritten() == "abcd")
        page(&transcript, last: 30, "ef")
        #expect(transcript.takeWritten() == "ef333333 to 111111 addFriend\n")
    }

    /// Pages that fail, do not move on, are empty or overrun what was offered: the client can
    /// only be told by the connection closing short of N bytes.
    @Test(arguments: [
        .failure(.timedOut), .success(.failure("disk")), .success(.historyPage(last: 0, bytes: Array("ab".utf8))),
        .success(.historyPage(last: 30, bytes: [])), .success(.historyPage(last: 30, bytes: Array("abcdefghijk".utf8))),
    ] as [Result<BusMessage, BusRequestError>])
    func aBrokenPageClosesTheConnection(answer: Result<BusMessage, BusRequestError>) {
        var transcript = streaming(byteCount: 10)
        _ = transcript.take()
        transcript.answer(.historyPage(download: 1), answer)
        let actions = transcript.take()
        #expect(actions.closeReason == .downloadFailed(download: 1))
        #expect(actions.written == "")
    }

    @Test func aDeclinedHistoryAsksStorageForNothingMore() {
        var transcript = SessionTranscript.signedIn()
        transcript.offerHistory(byteCount: 10)
        _ = transcript.take()
        transcript.send("no\n")
        #expect(transcript.take() == [])
        transcript.session.disconnected()
        #expect(transcript.take().allSatisfy { if case .send(.detach, _) = $0 { return true } else { return false } })
    }

    @Test func anEmptySnapshotIsNoHistoryYet() {
        var transcript = SessionTranscript.signedIn()
        transcript.offerHistory(byteCount: 0, through: 0)
        #expect(transcript.takeWritten() == "you two have no history yet\n")
    }

    @Test func aClientThatStopsReadingMidHistoryIsClosedAsAStalledDownload() {
        var transcript = streaming(byteCount: 10)
        #expect(transcript.take().contains(.schedule(.downloadStall(download: 1), after: .seconds(60))))
        transcript.session.downloadStallCheck(download: 1, unsentBytes: 4000)
        _ = transcript.take()
        transcript.session.downloadStallCheck(download: 1, unsentBytes: 4000)
        #expect(transcript.take() == [.close(.downloadStalled)])
    }
}
