import ChatBus
import ChatProtocol
import NIOCore

/// A history or a stored file offered to the client with `server_data_size<N>`, before its
/// answer. Either is a download in the protocol's sense: N bytes, paced by the client.
struct DownloadOffer: Equatable {
    enum Source: Equatable {
        /// A stored file: storage's id for the open file, where storage keeps it (used when
        /// this gateway can open it: same machine), and its name (to open it again elsewhere).
        case storedFile(id: UInt64, path: String, name: String)
        /// The pair's history up to record id `through` (storage's snapshot); storage holds
        /// nothing for it, each page names where it starts.
        case history(through: Int64)
    }

    let pair: PairKey
    let size: Int64
    var source: Source
}

/// A download under way: file bytes from storage, written to the client as fast as it reads.
/// (Not Equatable, as `Upload` is not.)
struct Download {
    static let chunkSize = 1024 * 1024
    static let maxChunksInFlight = 4
    /// Times one download may be opened again after its worker went with a move.
    static let maxReopens = 8
    /// The connection's write buffer bounds while a chunked download runs, and after it
    /// (SwiftNIO's default).
    static let waterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 2 << 20, high: 4 << 20)
    static let defaultWaterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 32 << 10, high: 64 << 10)

    /// This session's number for it; bus answers and timers name it.
    let serial: UInt64
    var offer: DownloadOffer
    var requested: Int64 = 0
    var written: Int64 = 0
    var chunksInFlight = 0
    /// Bytes the connection still had to send at the last stall check.
    var unsentAtLastCheck: Int?
    /// A history's next page starts after this record id.
    var historyCursor: Int64 = 0
    /// Opened again at another worker (`reopens` times): answers for the id it had before may
    /// still come, and are dropped.
    var reopens = 0
    var reopening = false
}

/// `history ... filename <name>`: the stored file's bytes sent straight from its file when this
/// gateway can open it (storage on the same machine: `sendfile`, no copies), otherwise
/// streamed from storage a few chunks at a time, only as fast as the client takes them.
///
/// `history ... all`: storage answers a snapshot (last record id, byte count), offered as
/// `server_data_size<N>`; after `ok` the records come a page at a time, each asked for only
/// once the one before is written and the client is reading. Neither gateway nor storage
/// ever holds a whole history.
extension ClientSession {
    mutating func historyOpened(slot: ReplySequencer.Slot, pair: PairKey, _ answer: Result<BusMessage, BusRequestError>) {
        guard case .success(.historySnapshot(let through, let size)) = answer, size >= 0 else {
            return finishGated(slot, .serviceUnavailable)
        }
        guard size > 0 else { return finishGated(slot, .noHistoryYet) }
        offerData(awaiting: .downloadAnswer(DownloadOffer(pair: pair, size: size, source: .history(through: through))),
                  byteCount: Int(size), slot: slot)
    }

    mutating func downloadOpened(slot: ReplySequencer.Slot, pair: PairKey, name: String, _ answer: Result<BusMessage, BusRequestError>) {
        switch answer {
        case .success(.noSuchFile):
            finishGated(slot, .noSuchFile)
        case .success(.downloadReady(let id, let size, let path)):
            guard !isClosed else { return actions.append(.send(.closeDownload(download: id), to: .storage(pair))) }
            offerData(awaiting: .downloadAnswer(DownloadOffer(pair: pair, size: size, source: .storedFile(id: id, path: path, name: name))),
                      byteCount: Int(size), slot: slot)
        default:
            finishGated(slot, .serviceUnavailable)
        }
    }

    /// The client's answer to `server_data_size<N>`: `ok` starts the bytes, anything else cancels.
    mutating func answerDownload(_ offer: DownloadOffer, accepted: Bool) {
        guard accepted, offer.size > 0 else {
            release(offer)
            return endDataExchange()
        }
        let serial = nextTransferSerial()
        download = Download(serial: serial, offer: offer)
        awaitingGatingReply = true
        actions.append(.schedule(.downloadStall(download: serial), after: settings.partialLineTimeout))
        if settings.sendLocalFiles, case .storedFile(_, let path, _) = offer.source {
            // All of it is on its way: the channel turning writable while the file goes out
            // must not ask storage for chunks too.
            download!.requested = offer.size
            actions.append(.sendStoredFile(path: path, size: offer.size, download: serial))
        } else {
            streamFromStorage()
        }
    }

    /// This machine cannot open storage's file: ask storage for it in chunks instead.
    mutating func storedFileUnavailable(download serial: UInt64) {
        guard download?.serial == serial else { return }
        download!.requested = 0
        streamFromStorage()
    }

    /// The whole file went out from storage's copy, or the connection failed under it.
    mutating func storedFileSent(download serial: UInt64, succeeded: Bool) {
        guard download?.serial == serial else { return }
        guard succeeded else { return close(.downloadInterrupted) }
        download!.written = download!.offer.size
        finishDownload()
    }

    private mutating func streamFromStorage() {
        // A file: ask storage for more while megabytes are still unsent, not once the socket is
        // nearly drained: the round trip to storage then overlaps the client's reading. A
        // history keeps the default buffer: its pages are small and the socket's own buffer
        // covers the round trip, so a client that answers `ok` and reads nothing holds a page
        // in the gateway, not megabytes.
        if case .storedFile = download?.offer.source { actions.append(.useDownloadWriteBuffer(true)) }
        requestDownloadChunks()
    }

    /// Keeps up to `maxChunksInFlight` chunks coming while the channel can take more.
    mutating func requestDownloadChunks() {
        guard let current = download, !isClosed, isOutputWritable, !current.reopening else { return }
        let offer = current.offer
        guard case .storedFile(let id, _, _) = offer.source else { return requestHistoryPage() }
        while let download, download.chunksInFlight < Download.maxChunksInFlight && download.requested < offer.size {
            let offset = download.requested
            let length = Int(min(Int64(Download.chunkSize), offer.size - offset))
            self.download!.requested += Int64(length)
            self.download!.chunksInFlight += 1
            actions.append(.request(.readChunk(download: id, offset: offset, length: UInt32(length)), to: .storage(offer.pair),
                                    then: .readChunk(download: download.serial, storageId: id, offset: offset, length: length)))
        }
    }

    mutating func chunkRead(serial: UInt64, storageId: UInt64, offset: Int64, length: Int, _ answer: Result<BusMessage, BusRequestError>) {
        guard download?.serial == serial else { return }
        download!.chunksInFlight -= 1
        guard !download!.reopening, case .storedFile(let current, _, _) = download!.offer.source, storageId == current else {
            // Asked of the worker that went (before the download was opened again): dropped,
            // whatever it says; its bytes are asked for again at the new owner.
            return requestDownloadChunks()
        }
        // One worker answers in the order asked: anything else would put bytes out of place.
        guard offset == download!.written else { return close(.downloadFailed(download: serial)) }
        if case .success(.partitionMoved) = answer { return reopenDownload() }
        guard case .success(.chunk(let bytes)) = answer, bytes.count == length else {
            // Mid-stream there is no way to say so in the protocol: the client sees the
            // connection close short of N bytes.
            return close(.downloadFailed(download: serial))
        }
        write(bytes)
        download!.written += Int64(length)
        if download!.written == download!.offer.size {
            finishDownload()
        } else {
            requestDownloadChunks()
        }
    }

    /// The worker the download began at went with a partition move (the bus answered for
    /// it): the file is opened again at the partition's owner, and read on from the next byte
    /// the client has not had.
    private mutating func reopenDownload() {
        guard download!.reopens < Download.maxReopens, case .storedFile(let id, _, let name) = download!.offer.source else {
            return close(.downloadFailed(download: download!.serial))
        }
        download!.reopens += 1
        download!.reopening = true
        actions.append(.note(.downloadReopened(download: id)))
        download!.requested = download!.written
        let pair = download!.offer.pair
        actions.append(.send(.closeDownload(download: id), to: .storage(pair)))
        actions.append(.request(.openDownload(pair: pair, name: name), to: .storage(pair), then: .reopenDownload(download: download!.serial, pair: pair)))
    }

    mutating func downloadReopened(serial: UInt64, pair: PairKey, _ answer: Result<BusMessage, BusRequestError>) {
        guard download?.serial == serial, case .storedFile(_, _, let name) = download!.offer.source else {
            // The client left meanwhile: the file opened again is closed.
            if case .success(.downloadReady(let id, _, _)) = answer { actions.append(.send(.closeDownload(download: id), to: .storage(pair))) }
            return
        }
        download!.reopening = false
        guard case .success(.downloadReady(let id, let size, let path)) = answer, size == download!.offer.size else {
            return close(.downloadFailed(download: serial))
        }
        download!.offer.source = .storedFile(id: id, path: path, name: name)
        requestDownloadChunks()
    }

    /// A client that stops reading mid-download is closed after the partial-line timeout
    /// without progress, as a stalled upload is, rather than hold a file open for good.
    /// `unsentBytes`: what the connection still has to send now.
    mutating func downloadStallCheck(download serial: UInt64, unsentBytes: Int) {
        guard let download, download.serial == serial, !isClosed else { return }
        if unsentBytes > 0 && unsentBytes == download.unsentAtLastCheck { return close(.downloadStalled) }
        self.download!.unsentAtLastCheck = unsentBytes
        actions.append(.schedule(.downloadStall(download: serial), after: settings.partialLineTimeout))
    }

    /// The next page of a history, once the one before is written and while the channel can
    /// take more: one page in flight, as each starts where the one before ended.
    private mutating func requestHistoryPage() {
        guard let download, case .history(let through) = download.offer.source,
              download.chunksInFlight == 0, download.written < download.offer.size else { return }
        self.download!.chunksInFlight = 1
        let request = BusMessage.readHistory(pair: download.offer.pair, after: download.historyCursor, through: through,
                                             maxBytes: UInt32(clamping: settings.historyPageBytes))
        actions.append(.request(request, to: .storage(download.offer.pair), then: .historyPage(download: download.serial)))
    }

    mutating func historyPageRead(serial: UInt64, _ answer: Result<BusMessage, BusRequestError>) {
        guard let current = download, current.serial == serial else { return }
        download!.chunksInFlight = 0
        // A page must move on and stay within what was offered; anything else cannot be said
        // mid-stream: the client sees the connection close short of N bytes.
        guard case .success(.historyPage(let last, let bytes)) = answer, !bytes.isEmpty, last > current.historyCursor,
              Int64(bytes.count) <= current.offer.size - current.written else {
            return close(.downloadFailed(download: serial))
        }
        write(bytes)
        download!.written += Int64(bytes.count)
        download!.historyCursor = last
        if download!.written == download!.offer.size {
            finishDownload()
        } else {
            requestDownloadChunks()
        }
    }

    /// Ends the download under way, if any: storage closes its file.
    mutating func releaseDownload() {
        guard let download else { return }
        release(download.offer)
        self.download = nil
    }

    /// Lets storage close an offered file; a history holds nothing there.
    mutating func release(_ offer: DownloadOffer) {
        guard case .storedFile(let id, _, _) = offer.source else { return }
        actions.append(.send(.closeDownload(download: id), to: .storage(offer.pair)))
    }

    private mutating func finishDownload() {
        guard let download else { return }
        releaseDownload()
        if case .storedFile = download.offer.source { actions.append(.useDownloadWriteBuffer(false)) }
        awaitingGatingReply = false
        endDataExchange()
        processLines()
    }
}
