import ChatBus
import ChatProtocol
import NIOCore

/// `history ... filename <name>`: the stored file's bytes streamed from storage, a chunk or two
/// at a time, only as fast as the client takes them.
extension ClientConnection {
    func openDownload(of name: String, with peer: String, me: String) {
        let slot = reserveGated()
        whenUserExists(peer, slot: slot) { [self] in
            let pair = PairKey(me, peer)
            bus.request(.openDownload(pair: pair, name: name), to: .storage(pair), on: eventLoop) { [self] result in
                switch result {
                case .success(.noSuchFile):
                    finishGated(slot, .noSuchFile)
                case .success(.downloadReady(let id, let size)):
                    guard context != nil else { return bus.send(.closeDownload(download: id), to: .storage(pair)) }
                    expectation = .downloadAnswer(GatewayDownload(id: id, pair: pair, size: size))
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

    private func finishDownload() {
        guard let download else { return }
        bus.send(.closeDownload(download: download.id), to: .storage(download.pair))
        try? context?.channel.syncOptions?.setOption(ChannelOptions.writeBufferWaterMark, value: ChannelOptions.Types.WriteBufferWaterMark(low: 32 << 10, high: 64 << 10))
        self.download = nil
        awaitingGatingReply = false
        endDataExchange()
        processLines()
    }
}
