#if canImport(Glibc)
import Glibc
#endif
import ChatBus
import ChatProtocol
import Logging
import NIOCore

/// One client's TCP connection: feeds its `ClientSession` the connection's events (bytes,
/// bus answers, deadlines, writability, pushes) and performs the actions the session asks
/// for. The protocol's decisions are all the session's; what is here is I/O: batching output
/// into one write per tick, timers, `sendfile`, and splicing relay partners.
///
/// Everything here runs on the connection's event loop; answers from the bus are hopped back
/// onto it by the bus (`SessionBus`).
///
/// `@unchecked Sendable`: other threads hold it only to hand it work on `eventLoop` (they read
/// `id`, `eventLoop` and a relay partner's `channel`, all constant, and NIO's `isWritable` is
/// atomic); every mutable field is touched on `eventLoop` alone,
/// which the entry points called from elsewhere assert in debug builds.
final class ClientConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let id: UInt64
    let eventLoop: EventLoop
    private let channel: Channel
    private let bus: any SessionBus
    private let registry: SessionRegistry
    private let relays: RelayRegistry
    /// Where writes made during a hand-over from the bus wait to be flushed together.
    private let outputBatch: OutputBatch
    /// The gateway-wide bound on what clients leave unread.
    private let outputBudget: OutputBudget
    private let logger: Logger
    private var session: ClientSession
    private var context: ChannelHandlerContext?
    /// True while `performActions` runs: actions asked for meanwhile join its loop.
    private var isPerforming = false
    private var flushScheduled = false
    /// Output of the current event-loop tick, not yet handed to the channel.
    private var pendingOutput: ByteBuffer?
    /// The other side of a relay, once spliced.
    private var relayPartner: ClientConnection?
    /// This connection's backlog as last told to `outputBudget`; 0 while the client reads.
    private var accountedBacklog = 0
    /// The channel's write buffer mark now (larger during a download): what is queued beyond
    /// it is backlog.
    private var writeBufferHighMark = Download.defaultWaterMark.high

    /// Told when this connection signs in or becomes a relay, so that it stops counting
    /// against its address's limit on connections not signed in.
    private let admission: ConnectionAdmission?

    init(id: UInt64, channel: Channel, bus: any SessionBus, registry: SessionRegistry, relays: RelayRegistry,
         outputBatch: OutputBatch, outputBudget: OutputBudget, settings: ClientSession.Settings,
         admission: ConnectionAdmission? = nil, logger: Logger) {
        self.id = id
        self.admission = admission
        self.channel = channel
        self.eventLoop = channel.eventLoop
        self.bus = bus
        self.registry = registry
        self.relays = relays
        self.outputBatch = outputBatch
        self.outputBudget = outputBudget
        session = ClientSession(connectionId: id, settings: settings)
        var logger = logger
        logger[metadataKey: "gateway.connection"] = "\(id)"
        self.logger = logger
    }

    // MARK: Channel events

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        registry.add(self)
        session.connected(remoteAddress: context.remoteAddress.map(Self.hostAndPort) ?? "unknown",
                          addressKey: ClientAddress(context.remoteAddress).key)
        performActions()
    }

    func channelInactive(context: ChannelHandlerContext) {
        session.disconnected()
        performActions()
        if let partner = relayPartner {
            relayPartner = nil
            partner.eventLoop.execute { partner.relayPartnerLeft() }
        }
        registry.remove(id)
        _ = outputBudget.account(from: accountedBacklog, to: 0)
        accountedBacklog = 0
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        session.received(unwrapInboundIn(data), at: eventLoop.now)
        performActions()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let isWritable = context.channel.isWritable
        session.writabilityChanged(isWritable: isWritable)
        performActions()
        if isWritable && accountedBacklog != 0 { accountBacklog() }
        if isWritable, let partner = relayPartner {
            partner.eventLoop.execute { partner.relayPartnerWritable(true) }
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug("connection error", metadata: ["gateway.error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: From the bus, on this connection's event loop

    func deliverPush(_ bytes: [UInt8]) {
        eventLoop.assertInEventLoop()
        session.push(bytes)
        performActions()
        // Held back during a data exchange: queued for the client all the same.
        if session.heldPushBytes != 0 { accountBacklog() }
    }

    func kick() {
        eventLoop.assertInEventLoop()
        session.kick()
        performActions()
    }

    /// A text's reply (`SessionAction.storeText`).
    func replyReady(_ slot: ReplySequencer.Slot, _ reply: ServerReply) {
        eventLoop.assertInEventLoop()
        session.replyReady(slot: slot, reply)
        performActions()
    }

    // MARK: Performing the session's actions

    /// Performs the session's actions in order; actions they lead to join the same loop.
    private func performActions() {
        guard !isPerforming else { return }
        isPerforming = true
        var index = 0
        while index < session.actions.count {
            let action = session.actions[index]
            index += 1
            perform(action)
        }
        session.actions.removeAll(keepingCapacity: true)
        isPerforming = false
    }

    private func perform(_ action: SessionAction) {
        switch action {
        case .write(let bytes):
            write(bytes)
        case .request(let message, let destination, let pending):
            bus.request(message, to: destination, on: eventLoop) { [self] answer in
                session.answered(pending, answer)
                performActions()
            }
        case .send(let message, let destination):
            bus.send(message, to: destination)
        case .storeText(let from, let to, let record, let slot):
            bus.deliverText(TextSubmission(from: from, to: to, record: record, connection: self, slot: slot))
        case .setReading(let isReading):
            context?.channel.setOption(ChannelOptions.autoRead, value: isReading).whenFailure { _ in }
        case .schedule(let timer, let delay):
            // Weak: a closed connection is not kept for a deadline that no longer matters.
            eventLoop.scheduleTask(in: delay) { [weak self] in
                self?.timerFired(timer)
            }
        case .sendStoredFile(let path, let size, let download):
            sendStoredFile(path: path, size: size, download: download)
        case .useDownloadWriteBuffer(let isDownloading):
            let waterMark = isDownloading ? Download.waterMark : Download.defaultWaterMark
            try? context?.channel.syncOptions?.setOption(ChannelOptions.writeBufferWaterMark, value: waterMark)
            writeBufferHighMark = waterMark.high
        case .joinRelay(let token):
            joinRelay(token: token)
        case .leaveRelay(let token):
            relays.leave(token, self)
        case .relayForward(let bytes):
            guard let partner = relayPartner else { return }
            partner.relayWrite(bytes)
            if !partner.channel.isWritable { session.relayPartnerWritable(false) }
        case .note(let note):
            if case .signedIn = note { admission?.authenticated(id) }
            log(note)
        case .close(let reason):
            log(reason)
            if reason == .slowReader || reason == .overOutputBudget {
                // Not a byte more for a client that reads nothing (as before the session split).
                pendingOutput = nil
            } else {
                flushOutput()
            }
            context?.close(promise: nil)
        }
    }

    private func timerFired(_ timer: SessionTimer) {
        if case .downloadStall(let download) = timer {
            guard let channel = context?.channel else { return }
            let unsent = (try? channel.syncOptions?.getOption(ChannelOptions.bufferedWritableBytes)) ?? 0
            session.downloadStallCheck(download: download, unsentBytes: unsent)
        } else if case .messageRate = timer {
            session.messageRateRefilled(at: eventLoop.now)
        } else {
            session.timerFired(timer)
        }
        performActions()
    }

    // MARK: Output

    /// Queues bytes; one flush at the end of this event-loop tick (or of the bus hand-over
    /// running now) sends everything written in it with one syscall.
    private func write(_ bytes: [UInt8]) {
        guard let context else { return }
        if pendingOutput == nil {
            pendingOutput = context.channel.allocator.buffer(capacity: max(bytes.count, 512))
            if outputBatch.isOpen { outputBatch.add(self) }
        }
        pendingOutput!.writeBytes(bytes)
        guard !flushScheduled, !outputBatch.isOpen else { return }
        flushScheduled = true
        eventLoop.execute { [self] in
            flushScheduled = false
            flushOutput()
        }
    }

    /// Everything written in this tick, to the socket in one write.
    func flushOutput() {
        guard let context, let buffer = pendingOutput else { return }
        pendingOutput = nil
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        // A client that reads keeps no backlog: nothing more to do (no atomic on the text path).
        if !context.channel.isWritable || accountedBacklog != 0 { accountBacklog() }
    }

    /// Tells the gateway's budget what this connection now holds for a client that is not
    /// reading it: what the channel could not send beyond its write buffer mark (a download
    /// that is read keeps its few MiB of lookahead out of it) and the pushes held back during
    /// a data exchange. A client that leaves too much unread is closed rather
    /// than let it grow the gateway: past its own limit, or past its share of the budget while
    /// the gateway is over it. Pushes it missed are in the history.
    private func accountBacklog() {
        guard let channel = context?.channel, !session.isClosed else { return }
        let unsent = channel.isWritable ? 0 : (try? channel.syncOptions?.getOption(ChannelOptions.bufferedWritableBytes)) ?? 0
        // One limit for all a client leaves unread: what its socket holds and the pushes held back.
        if unsent + session.heldPushBytes > session.settings.maxUnsentOutput {
            session.close(.slowReader)
            return performActions()
        }
        let backlog = max(0, unsent - writeBufferHighMark) + session.heldPushBytes
        let isOverShare = outputBudget.account(from: accountedBacklog, to: backlog)
        accountedBacklog = backlog
        if isOverShare {
            session.close(.overOutputBudget)
            performActions()
        }
    }

    /// Sends the whole stored file with `sendfile` when this machine can open storage's copy
    /// of it at the stored size; otherwise the session streams it from storage.
    private func sendStoredFile(path: String, size: Int64, download: UInt64) {
        guard let context else { return }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return session.storedFileUnavailable(download: download) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, Int64(status.st_size) == size else {
            Glibc.close(descriptor)
            return session.storedFileUnavailable(download: download)
        }
        let file = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor)
        let region = FileRegion(fileHandle: file, readerIndex: 0, endIndex: Int(size))
        // Replies written before the file go out first.
        flushOutput()
        let written = eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(NIOAny(IOData.fileRegion(region)), promise: written)
        written.futureResult.whenComplete { [self] result in
            try? file.close()
            if case .failure(let error) = result, session.download?.serial == download {
                logger.debug("download ended early", metadata: ["gateway.error": "\(error)"])
            }
            session.storedFileSent(download: download, succeeded: result.isSuccess)
            performActions()
        }
    }

    // MARK: Relay partners

    /// Splices this connection to the one already waiting for `token`, or leaves it waiting.
    private func joinRelay(token: String) {
        guard let partner = relays.join(token, self) else { return session.waitForRelayPartner() }
        // The partner's `p2p relay ready` is queued before any byte we forward to it.
        partner.eventLoop.execute { partner.relayPartnerFound(self) }
        relayPartnerFound(partner)
    }

    private func relayPartnerFound(_ partner: ClientConnection) {
        guard context != nil, !session.isClosed else {
            partner.eventLoop.execute { partner.relayPartnerLeft() }
            return
        }
        relayPartner = partner
        admission?.authenticated(id)
        session.relayStarted()
        performActions()
    }

    /// Bytes from the partner, from its event loop.
    private func relayWrite(_ bytes: [UInt8]) {
        eventLoop.execute { [self] in
            session.relayDelivered(bytes)
            performActions()
        }
    }

    private func relayPartnerWritable(_ isWritable: Bool) {
        session.relayPartnerWritable(isWritable)
        performActions()
    }

    private func relayPartnerLeft() {
        session.close(.relayPartnerGone)
        performActions()
    }

    // MARK: Logging

    private func log(_ reason: CloseReason) {
        switch reason {
        case .offline, .signedInElsewhere, .relayPartnerGone, .downloadInterrupted: break
        case .loginTimeout: logger.debug("closing a connection that did not sign in in time")
        case .partialLineTimeout: logger.debug("closing a connection that left a line half-sent")
        case .dataAnswerTimeout: logger.debug("closing a connection that did not answer server_data_size")
        case .uploadStalled: logger.debug("closing a connection whose upload stalled or crawled")
        case .downloadStalled: logger.debug("closing a connection whose download stalled")
        case .downloadFailed(let download):
            logger.error("download failed in storage; closing", metadata: ["gateway.download": "\(download)"])
        case .relayPartnerMissing: logger.debug("relay partner never came")
        case .relayIdle: logger.debug("closing a relay that carried nothing for its idle timeout")
        case .relayOverCap: logger.notice("closing a relay whose side sent more than its transfer was offered at")
        case .slowReader: logger.warning("closing a connection that does not read what it is sent")
        case .overOutputBudget:
            logger.warning("closing a connection that does not read what it is sent; the gateway's output budget is spent",
                           metadata: ["gateway.queued_output_bytes": "\(outputBudget.queuedBytes)"])
        }
    }

    private func log(_ note: SessionNote) {
        switch note {
        case .signedIn(let uid):
            logger.debug("signed in", metadata: ["gateway.uid": "\(uid)"])
        case .uploadFailed(let upload, let reason):
            logger.warning("upload failed in storage; dropping the rest", metadata: ["gateway.upload": "\(upload)", "gateway.reason": "\(reason)"])
        case .downloadReopened(let download):
            logger.info("download opened again at its partition's new owner", metadata: ["gateway.download": "\(download)"])
        }
    }

    /// As peers' endpoints are written in the protocol: `a.b.c.d:port`, `[v6]:port`.
    private static func hostAndPort(_ address: SocketAddress) -> String {
        Endpoint(host: address.ipAddress ?? "?", port: address.port ?? 0).description
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
