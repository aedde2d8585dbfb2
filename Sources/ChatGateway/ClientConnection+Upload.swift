import ChatBus
import ChatProtocol
import NIOCore

/// Audio and file messages through the server: early refusals, then `ok`, then exactly `size`
/// raw bytes streamed to storage, then the final reply once the file and its record are durable.
extension ClientConnection {
    func handleAttachmentName(_ name: [UInt8], of header: MessageHeader) {
        let size: Int64, isAudio: Bool
        switch header.kind {
        case .audio(let bytes): (size, isAudio) = (bytes, true)
        case .file(let bytes): (size, isAudio) = (bytes, false)
        case .text: return
        }
        let slot = reserveGated()
        // Checks in the protocol's order: uid not exits, File too large, Invalid file name.
        whenUserExists(header.recipient, slot: slot) { [self] in
            guard size <= settings.maxFileBytes else { return finishGated(slot, .fileTooLarge) }
            guard isAudio ? FileNames.isValidAudioName(name) : FileNames.isValidFileName(name) else {
                return finishGated(slot, .invalidFileName)
            }
            let pair = PairKey(header.sender, header.recipient)
            let request = BusMessage.beginUpload(pair: pair, header: header.line, name: String(decoding: name, as: UTF8.self), size: size)
            bus.request(request, to: .storage(pair), on: eventLoop) { [self] result in
                guard case .success(.uploadReady(let id)) = result else { return finishGated(slot, .serviceUnavailable) }
                guard context != nil else { return bus.send(.abortUpload(upload: id), to: .storage(pair)) }
                startUpload(GatewayUpload(id: id, pair: pair, sender: header.sender, recipient: header.recipient,
                                          finalSlot: reserve(), size: size), goAhead: slot)
            }
        }
    }

    private func startUpload(_ upload: GatewayUpload, goAhead slot: ReplySequencer.Slot) {
        self.upload = upload
        // The go-ahead `ok`; the gate stays closed until the final reply.
        finish(slot, .ok)
        upload.idleCheck = eventLoop.scheduleRepeatedTask(initialDelay: settings.partialLineTimeout, delay: settings.partialLineTimeout) { [weak self, weak upload] _ in
            guard let self, let upload, self.upload === upload else { return }
            if !upload.receivedSinceIdleCheck && upload.toReceive > 0 {
                self.logger.debug("closing a connection whose upload stalled")
                self.close()
            }
            upload.receivedSinceIdleCheck = false
        }
        // Bytes the client sent right behind the name line are already in the framer.
        let early = framer.takeRaw(upTo: Int(clamping: upload.toReceive))
        readPauses.remove(.lineBacklog)
        if !early.isEmpty { accept(early, into: upload) }
        pumpUpload()
    }

    /// Takes this read's share of upload bytes out of `buffer`; the rest are lines again.
    func receiveUploadBytes(_ buffer: inout ByteBuffer) {
        guard let upload, upload.toReceive > 0 else { return }
        let count = Int(min(Int64(buffer.readableBytes), upload.toReceive))
        guard count > 0, let bytes = buffer.readBytes(length: count) else { return }
        accept(bytes, into: upload)
        pumpUpload()
    }

    private func accept(_ bytes: [UInt8], into upload: GatewayUpload) {
        upload.toReceive -= Int64(bytes.count)
        upload.receivedSinceIdleCheck = true
        if !upload.failed { upload.pending.append(contentsOf: bytes) }
    }

    /// Sends whole chunks while the window allows, stops reading when it does not, and
    /// finishes once every byte is confirmed.
    func pumpUpload() {
        guard let upload, context != nil else { return }
        if upload.failed {
            // Keep reading (and dropping) until the announced bytes are all in.
            readPauses.set(.uploadWindow, false)
            if upload.toReceive == 0 { completeUpload(.serviceUnavailable) }
            return
        }
        while upload.inFlight < GatewayUpload.window,
              upload.pending.count >= GatewayUpload.chunkSize || (upload.toReceive == 0 && !upload.pending.isEmpty) {
            let count = min(GatewayUpload.chunkSize, upload.pending.count)
            let chunk = Array(upload.pending.prefix(count))
            upload.pending.removeFirst(count)
            upload.inFlight += count
            bus.request(.uploadChunk(upload: upload.id, bytes: chunk), to: .storage(upload.pair), on: eventLoop) { [self] result in
                guard self.upload === upload else { return }
                upload.inFlight -= count
                if case .success(.chunkStored) = result {} else { failUpload(upload) }
                pumpUpload()
            }
        }
        readPauses.set(.uploadWindow, upload.pending.count >= GatewayUpload.window)
        guard upload.toReceive == 0, upload.pending.isEmpty, upload.inFlight == 0, !upload.finishing else { return }
        upload.finishing = true
        bus.request(.finishUpload(upload: upload.id), to: .storage(upload.pair), on: eventLoop) { [self] result in
            guard case .success(.stored(let record)) = result else { return completeUpload(.serviceUnavailable) }
            bus.request(.announce(from: upload.sender, to: upload.recipient, record: record), to: .router, on: eventLoop) { [self] result in
                completeUpload(ReplyMapping.delivery(result))
            }
        }
    }

    private func failUpload(_ upload: GatewayUpload) {
        guard !upload.failed else { return }
        logger.warning("upload failed in storage; dropping the rest", metadata: ["gateway.upload": "\(upload.id)"])
        upload.failed = true
        upload.pending = []
        bus.send(.abortUpload(upload: upload.id), to: .storage(upload.pair))
    }

    private func completeUpload(_ reply: ServerReply) {
        guard let upload else { return }
        upload.idleCheck?.cancel()
        self.upload = nil
        readPauses.set(.uploadWindow, false)
        finish(upload.finalSlot, reply)
        awaitingGatingReply = false
        endDataExchange()
        processLines()
    }

    /// The client left: an unfinished upload leaves nothing behind, an open download is closed.
    func abandonTransfers() {
        if let upload {
            upload.idleCheck?.cancel()
            if !upload.finishing { bus.send(.abortUpload(upload: upload.id), to: .storage(upload.pair)) }
            self.upload = nil
        }
        releaseDownload()
        if case .downloadAnswer(let offered) = expectation {
            bus.send(.closeDownload(download: offered.id), to: .storage(offered.pair))
        }
    }
}
