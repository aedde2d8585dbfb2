import ChatBus
import ChatProtocol

/// An upload under way: raw bytes from the client, passed on to the storage worker in
/// chunks, with at most `window` bytes unconfirmed by storage. Past that the connection stops
/// reading, so memory stays bounded whatever the file size.
///
/// Chunks are kept until storage confirms them: if the partition moves meanwhile, its old
/// worker answers `partitionMoved`, and the upload resumes at the new owner from the bytes
/// confirmed, the rest sent again.
/// (Not Equatable on purpose: `upload == nil` would then compare whole values, copies and
/// all, on every line read.)
struct Upload {
    static let chunkSize = 256 * 1024
    static let window = 4 * chunkSize
    /// Moves one upload may follow; past them (partitions moving round and round) it fails.
    static let maxResumes = 8

    /// A chunk sent to storage and not yet confirmed.
    struct SentChunk {
        let offset: Int64
        let bytes: [UInt8]
        var stored = false
    }

    /// This session's number for it; bus answers name it.
    let serial: UInt64
    /// Storage's id for it.
    let id: UInt64
    let pair: PairKey
    let sender: String
    let recipient: String
    /// The command's first line and the file's name, to resume it elsewhere.
    let headerLine: [UInt8]
    let name: String
    /// The announced size, counted against the sender's stored-bytes quota until it is stored
    /// or given back.
    let size: Int64
    /// Where the final `ok` / `Target user offline` goes in the connection's reply order.
    let finalSlot: ReplySequencer.Slot
    /// Bytes the client still has to send.
    var toReceive: Int64
    /// Received, not yet sent to storage.
    var pending: [UInt8] = []
    /// Sent to storage, not yet answered.
    var inFlight = 0
    /// Bytes storage confirmed, all of them from the start: a resume carries on after them.
    var confirmed: Int64 = 0
    /// Chunks sent after `confirmed`, in order; answers may confirm them out of order only
    /// during a move.
    var unconfirmed: [SentChunk] = []
    /// Storage answered `partitionMoved`: once every answer is in, the upload resumes at the
    /// partition's new owner.
    var moved = false
    var resuming = false
    var resumes = 0
    /// Storage failed: the rest of the bytes are read and dropped, then `Service unavailable`.
    var failed = false
    var finishing = false
    /// Bytes received since the last idle check.
    var receivedSinceIdleCheck: Int64 = 0
}

/// Audio and file messages through the server: early refusals, then `ok`, then exactly `size`
/// raw bytes streamed to storage, then the final reply once the file and its record are durable.
extension ClientSession {
    mutating func handleAttachmentName(_ name: [UInt8], of header: MessageHeader) {
        // Checks in the protocol's order: uid not exits, File too large, Invalid file name.
        let slot = reserveGated()
        actions.append(.request(.userExists(uid: header.recipient), to: .auth,
                                then: .userExists(slot, then: .beginUpload(header, name: name))))
    }

    mutating func beginUpload(_ header: MessageHeader, name: [UInt8], slot: ReplySequencer.Slot) {
        let size: Int64, isAudio: Bool
        switch header.kind {
        case .audio(let bytes): (size, isAudio) = (bytes, true)
        case .file(let bytes): (size, isAudio) = (bytes, false)
        case .text: return finishGated(slot, .wrongInteractCommand)
        }
        guard size <= settings.maxFileBytes else { return finishGated(slot, .fileTooLarge) }
        guard isAudio ? FileNames.isValidAudioName(name) : FileNames.isValidFileName(name) else {
            return finishGated(slot, .invalidFileName)
        }
        // After every check the contract orders, before any byte: the sender's quota.
        guard size > 0 else { return askStorageToBegin(header, name: name, size: size, slot: slot) }
        actions.append(.request(.reserveStorage(uid: header.sender, bytes: size), to: .auth,
                                then: .reserveStorage(slot, header: header, name: name)))
    }

    mutating func storageReserved(slot: ReplySequencer.Slot, header: MessageHeader, name: [UInt8],
                                  _ answer: Result<BusMessage, BusRequestError>) {
        guard case .success(.storageReservation(let granted)) = answer else {
            // Auth may have counted it all the same: left counted (at most this file too many),
            // never given back for bytes it may not have counted.
            return finishGated(slot, .serviceUnavailable)
        }
        guard granted else { return finishGated(slot, .storageQuotaExceeded) }
        let size = header.kind.size
        guard !isClosed else { return releaseStorage(size, of: header.sender) }
        askStorageToBegin(header, name: name, size: size, slot: slot)
    }

    mutating func askStorageToBegin(_ header: MessageHeader, name: [UInt8], size: Int64, slot: ReplySequencer.Slot) {
        let pair = PairKey(header.sender, header.recipient)
        let name = String(decoding: name, as: UTF8.self)
        let request = BusMessage.beginUpload(pair: pair, header: header.line, name: name, size: size)
        actions.append(.request(request, to: .storage(pair), then: .beginUpload(slot, header: header, name: name, size: size)))
    }

    mutating func uploadBegun(slot: ReplySequencer.Slot, header: MessageHeader, name: String, size: Int64,
                              _ answer: Result<BusMessage, BusRequestError>) {
        guard case .success(.uploadReady(let id)) = answer else {
            releaseStorage(size, of: header.sender)
            return finishGated(slot, .serviceUnavailable)
        }
        let pair = PairKey(header.sender, header.recipient)
        guard !isClosed else {
            releaseStorage(size, of: header.sender)
            return actions.append(.send(.abortUpload(upload: id), to: .storage(pair)))
        }
        let serial = nextTransferSerial()
        upload = Upload(serial: serial, id: id, pair: pair, sender: header.sender, recipient: header.recipient,
                        headerLine: header.line, name: name, size: size, finalSlot: reserve(), toReceive: size)
        // The go-ahead `ok`; the gate stays closed until the final reply.
        finish(slot, .ok)
        actions.append(.schedule(.uploadIdle(upload: serial), after: settings.partialLineTimeout))
        // Bytes the client sent right behind the name line are already in the framer.
        let early = framer.takeRaw(upTo: Int(clamping: size))
        setPause(.lineBacklog, false)
        if !early.isEmpty { acceptUploadBytes(early) }
        pumpUpload()
    }

    mutating func acceptUploadBytes(_ bytes: [UInt8]) {
        guard upload != nil else { return }
        upload!.toReceive -= Int64(bytes.count)
        upload!.receivedSinceIdleCheck += Int64(bytes.count)
        if !upload!.failed { upload!.pending.append(contentsOf: bytes) }
    }

    /// Sends whole chunks while the window allows, stops reading when it does not, and
    /// finishes once every byte is confirmed.
    mutating func pumpUpload() {
        // `upload!` throughout, never a copy of it: a copy would share `pending`, and trimming
        // it would then copy up to a window of bytes per chunk.
        guard upload != nil, !isClosed else { return }
        if upload!.moved || upload!.resuming {
            // Nothing goes to storage until the new owner has it; the window still bounds
            // what is read meanwhile.
            setPause(.uploadWindow, upload!.pending.count + Int(upload!.inFlight) >= Upload.window)
            guard !upload!.resuming, upload!.inFlight == 0 else { return }
            return resumeUpload()
        }
        if upload!.failed {
            // Keep reading (and dropping) until the announced bytes are all in.
            setPause(.uploadWindow, false)
            if upload!.toReceive == 0 { completeUpload(.serviceUnavailable) }
            return
        }
        let (id, pair, serial) = (upload!.id, upload!.pair, upload!.serial)
        while upload!.inFlight < Upload.window,
              upload!.pending.count >= Upload.chunkSize || (upload!.toReceive == 0 && !upload!.pending.isEmpty) {
            let count = min(Upload.chunkSize, upload!.pending.count)
            let chunk = Array(upload!.pending.prefix(count))
            upload!.pending.removeFirst(count)
            let offset = upload!.confirmed + Int64(upload!.inFlight)
            upload!.inFlight += count
            upload!.unconfirmed.append(Upload.SentChunk(offset: offset, bytes: chunk))
            actions.append(.request(.uploadChunk(upload: id, bytes: chunk), to: .storage(pair),
                                    then: .uploadChunk(upload: serial, offset: offset, byteCount: count)))
        }
        setPause(.uploadWindow, upload!.pending.count >= Upload.window)
        guard upload!.toReceive == 0, upload!.pending.isEmpty, upload!.inFlight == 0, !upload!.finishing else { return }
        upload!.finishing = true
        actions.append(.request(.finishUpload(upload: id), to: .storage(pair),
                                then: .finishUpload(upload: serial, from: upload!.sender, to: upload!.recipient)))
    }

    mutating func uploadChunkStored(serial: UInt64, offset: Int64, byteCount: Int, _ answer: Result<BusMessage, BusRequestError>) {
        guard upload?.serial == serial else { return }
        upload!.inFlight -= byteCount
        switch answer {
        case .success(.chunkStored): confirmChunk(at: offset)
        case .success(.partitionMoved) where !upload!.failed: upload!.moved = true
        default: failUpload(because: "chunk answered \(answer)")
        }
        pumpUpload()
    }

    /// Marks the chunk at `offset` stored, and counts as confirmed every chunk stored from the
    /// start of those unconfirmed.
    private mutating func confirmChunk(at offset: Int64) {
        guard let index = upload!.unconfirmed.firstIndex(where: { $0.offset == offset }) else { return }
        upload!.unconfirmed[index].stored = true
        while let first = upload!.unconfirmed.first, first.stored {
            upload!.confirmed += Int64(first.bytes.count)
            upload!.unconfirmed.removeFirst()
        }
    }

    /// Every answer is in since storage said the partition moved: the bytes not confirmed go
    /// back in front of those waiting, and the new owner is asked to carry on after the
    /// confirmed ones (`storage(pair)` goes by the newer map the answer brought).
    private mutating func resumeUpload() {
        guard upload!.resumes < Upload.maxResumes else {
            failUpload(because: "moved more than \(Upload.maxResumes) times")
            return pumpUpload()
        }
        upload!.resumes += 1
        upload!.moved = false
        upload!.resuming = true
        upload!.finishing = false
        upload!.pending = upload!.unconfirmed.flatMap(\.bytes) + upload!.pending
        upload!.unconfirmed = []
        let request = BusMessage.resumeUpload(pair: upload!.pair, header: upload!.headerLine, name: upload!.name,
                                              size: upload!.size, upload: upload!.id, received: upload!.confirmed)
        actions.append(.request(request, to: .storage(upload!.pair), then: .resumeUpload(upload: upload!.serial, pair: upload!.pair)))
    }

    mutating func uploadResumed(serial: UInt64, pair: PairKey, _ answer: Result<BusMessage, BusRequestError>) {
        guard upload?.serial == serial else {
            // The client left meanwhile (its abort went to the old worker): the new owner drops it.
            if case .success(.uploadReady(let id)) = answer { actions.append(.send(.abortUpload(upload: id), to: .storage(pair))) }
            return
        }
        upload!.resuming = false
        if case .success(.uploadReady(let id)) = answer, id == upload!.id {} else { failUpload(because: "resume answered \(answer)") }
        pumpUpload()
    }

    mutating func uploadFinished(serial: UInt64, sender: String, recipient: String, _ answer: Result<BusMessage, BusRequestError>) {
        if case .success(.partitionMoved) = answer, upload?.serial == serial {
            // Its worker let the partition go before making it durable: finished at the new owner.
            upload!.moved = true
            return pumpUpload()
        }
        guard case .success(.stored(let record)) = answer else {
            guard let upload, upload.serial == serial else { return }
            // Storage refused it, so nothing was stored: the reservation goes back. Unanswered,
            // it may have been stored: it stays counted (at most this file too many).
            if case .success(.failure) = answer { releaseStorage(upload.size, of: upload.sender) }
            return completeUpload(.serviceUnavailable)
        }
        // Stored: announced even if the sender has left meanwhile, so an online recipient
        // still hears of the file its history now holds.
        actions.append(.request(.announce(from: sender, to: recipient, record: record), to: .router, then: .announce(upload: serial)))
    }

    private mutating func failUpload(because reason: String) {
        guard let upload, !upload.failed else { return }
        actions.append(.note(.uploadFailed(upload: upload.id, reason: reason)))
        self.upload!.failed = true
        self.upload!.moved = false
        self.upload!.pending = []
        self.upload!.unconfirmed = []
        actions.append(.send(.abortUpload(upload: upload.id), to: .storage(upload.pair)))
        releaseStorage(upload.size, of: upload.sender)
    }

    mutating func completeUpload(_ reply: ServerReply) {
        guard let upload else { return }
        self.upload = nil
        setPause(.uploadWindow, false)
        finish(upload.finalSlot, reply)
        awaitingGatingReply = false
        endDataExchange()
        processLines()
    }

    /// An upload slower than the minimum rate since the last check (or that received nothing at
    /// all) closes the connection: a byte now and then must not hold it open for good.
    mutating func uploadIdleCheck(_ serial: UInt64) {
        guard let upload, upload.serial == serial, !isClosed else { return }
        let interval = Int64(settings.partialLineTimeout.nanoseconds / 1_000_000_000)
        let required = max(1, Int64(settings.minUploadBytesPerSecond) * interval)
        if upload.toReceive > 0 && upload.receivedSinceIdleCheck < required { return close(.uploadStalled) }
        self.upload!.receivedSinceIdleCheck = 0
        actions.append(.schedule(.uploadIdle(upload: serial), after: settings.partialLineTimeout))
    }

    /// The client left: an unfinished upload leaves nothing behind, an open download is closed.
    mutating func abandonTransfers() {
        if let upload {
            if !upload.finishing { actions.append(.send(.abortUpload(upload: upload.id), to: .storage(upload.pair))) }
            // Once finishing, storage may be committing it: it stays counted.
            if !upload.finishing && !upload.failed { releaseStorage(upload.size, of: upload.sender) }
            self.upload = nil
        }
        releaseDownload()
        if case .downloadAnswer(let offer) = expectation { release(offer) }
    }

    /// Gives back a reservation for an upload that was not stored (one-way: if it is lost, the
    /// user is over-counted by this file, never under-counted).
    mutating func releaseStorage(_ bytes: Int64, of uid: String) {
        guard bytes > 0 else { return }
        actions.append(.send(.releaseStorage(uid: uid, bytes: bytes), to: .auth))
    }
}

extension MessageHeader.Kind {
    /// The announced byte count of a voice or file message; 0 for a text.
    var size: Int64 {
        switch self {
        case .text: return 0
        case .audio(let size), .file(let size): return size
        }
    }
}
