import ChatBus
import ChatProtocol
import Foundation
import NIOCore

/// `history ... filename <name>`: the stored file's bytes sent straight from its file when this
/// gateway can open it (storage on the same machine: `sendfile`, no copies), otherwise
/// streamed from storage a few chunks at a time, only as fast as the client takes them.
/// A file found at storage's path is only used if its size is the stored size; blob names
/// are random 128-bit ids, so another machine's file at the same path is not a risk.
extension ClientConnection {
    func openDownload(of name: String, with peer: String, me: String) {
        let slot = reserveGated()
        whenUserExists(peer, slot: slot) { [self] in
            let pair = PairKey(me, peer)
            bus.request(.openDownload(pair: pair, name: name), to: .storage(pair), on: eventLoop) { [self] result in
                switch result {
                case .success(.noSuchFile):
                    finishGated(slot, .noSuchFile)
                case .success(.downloadReady(let id, let size, let path)):
                    guard context != nil else { return bus.send(.closeDownload(download: id), to: .storage(pair)) }
                    expectation = .downloadAnswer(GatewayDownload(id: id, pair: pair, size: size, storedPath: path))
                    finishGated(slot, .dataSize(Int(size)))
                default:
                    finishGated(slot, .serviceUnavailable)
                }
            }
        }
    }

    /// The client's answer to `server_data_size<N>`: `ok` starts the bytes, anything else cancels.
    func answerDownload(_ offered: GatewayDownload, accepted: Bool) {
        guard accepted, offered.size > 0 else {
            bus.send(.closeDownload(download: offered.id), to: .storage(offered.pair))
            return endDataExchange()
        }
        download = offered
        awaitingGatingReply = true
        watchForStall(offered)
        if sendStoredFile(offered) { return }
        // Ask storage for more while megabytes are still unsent, not once the socket is nearly
        // drained: the round trip to storage then overlaps the client's reading.
        try? context?.channel.syncOptions?.setOption(ChannelOptions.writeBufferWaterMark, value: GatewayDownload.waterMark)
        requestDownloadChunks()
    }

    /// Keeps up to `maxChunksInFlight` chunks coming while the channel can take more.
    func requestDownloadChunks() {
        guard let download, let context, context.channel.isWritable else { return }
        while download.chunksInFlight < GatewayDownload.maxChunksInFlight && download.requested < download.size {
            let offset = download.requested
            let length = Int(min(Int64(GatewayDownload.chunkSize), download.size - offset))
            download.requested += Int64(length)
            download.chunksInFlight += 1
            let request = BusMessage.readChunk(download: download.id, offset: offset, length: UInt32(length))
            bus.request(request, to: .storage(download.pair), on: eventLoop) { [self] result in
                guard self.download === download else { return }
                download.chunksInFlight -= 1
                guard case .success(.chunk(let bytes)) = result, bytes.count == length else {
                    // Mid-stream there is no way to say so in the protocol: the client sees the
                    // connection close short of N bytes.
                    logger.error("download failed in storage; closing", metadata: ["gateway.download": "\(download.id)"])
                    return close()
                }
                write(bytes)
                download.written += Int64(length)
                if download.written == download.size {
                    finishDownload()
                } else {
                    requestDownloadChunks()
                }
            }
        }
    }

    /// Sends the whole file from storage's own copy; false when it cannot be opened here.
    private func sendStoredFile(_ download: GatewayDownload) -> Bool {
        guard settings.sendLocalFiles, let context else { return false }
        let descriptor = open(download.storedPath, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        var status = stat()
        guard fstat(descriptor, &status) == 0, Int64(status.st_size) == download.size else {
            Glibc.close(descriptor)
            return false
        }
        let file = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor)
        let region = FileRegion(fileHandle: file, readerIndex: 0, endIndex: Int(download.size))
        // All of it is on its way: the channel turning writable while the file goes out must
        // not ask storage for chunks too.
        download.requested = download.size
        // Replies written before the file go out first.
        flushOutput()
        let written = eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(NIOAny(IOData.fileRegion(region)), promise: written)
        written.futureResult.whenComplete { [self] result in
            try? file.close()
            guard self.download === download else { return }
            switch result {
            case .success:
                download.written = download.size
                finishDownload()
            case .failure(let error):
                logger.debug("download ended early", metadata: ["gateway.error": "\(error)"])
                close()
            }
        }
        return true
    }

    /// Ends the download under way, if any: its stall check stops and storage closes its file.
    func releaseDownload() {
        guard let download else { return }
        download.stallCheck?.cancel()
        bus.send(.closeDownload(download: download.id), to: .storage(download.pair))
        self.download = nil
    }

    /// A client that stops reading mid-download is closed after the partial-line timeout
    /// without progress, as a stalled upload is, rather than hold a file open for good.
    private func watchForStall(_ download: GatewayDownload) {
        download.stallCheck = eventLoop.scheduleRepeatedTask(initialDelay: settings.partialLineTimeout, delay: settings.partialLineTimeout) { [weak self, weak download] _ in
            guard let self, let download, self.download === download, let channel = context?.channel else { return }
            let unsent = (try? channel.syncOptions?.getOption(ChannelOptions.bufferedWritableBytes)) ?? 0
            if unsent > 0 && unsent == download.unsentAtLastCheck {
                logger.debug("closing a connection whose download stalled")
                close()
            }
            download.unsentAtLastCheck = unsent
        }
    }

    private func finishDownload() {
        guard download != nil else { return }
        releaseDownload()
        try? context?.channel.syncOptions?.setOption(ChannelOptions.writeBufferWaterMark, value: GatewayDownload.defaultWaterMark)
        awaitingGatingReply = false
        endDataExchange()
        processLines()
    }
}
