import ChatBus
import ChatProtocol
import Logging
import NIOCore

/// One client's TCP session: framing, the login and session phases, replies in command
/// order, pushes held back during a data exchange, and the deadlines that keep a slow or
/// silent client from pinning resources.
///
/// Everything here runs on the connection's event loop; answers from the bus are hopped back
/// onto it by `GatewayBus`.
final class ClientConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    struct Settings {
        var loginTimeout: TimeAmount
        var partialLineTimeout: TimeAmount
        /// Largest file or voice message accepted through the server.
        var maxFileBytes: Int64
        /// Downloads may be sent from storage's own file when this machine has it.
        var sendLocalFiles = true
        /// Commands whose replies are still owed; past this the connection stops reading.
        var maxOutstandingReplies = 4096
        /// Input waiting to be read as lines; past this the connection stops reading.
        var maxBufferedInput = 256 * 1024
        /// Output a client leaves unread (its pushes and replies) before it is disconnected.
        var maxUnsentOutput = 64 << 20
    }

    enum Phase {
        case login
        case session(uid: String, parser: SessionCommandParser)
        /// A peer-to-peer relay connection waiting for its partner.
        case relayWaiting(token: String)
        /// Spliced to the partner: every byte read goes to it.
        case relay(partner: ClientConnection)
    }

    /// What the next line means.
    enum Expectation {
        case command
        /// The content line of a two-line message.
        case content(MessageHeader)
        /// The second line of a refused two-line command: read and dropped, then `reply`.
        case droppedContent(reply: ServerReply)
        /// The client's answer to `server_data_size<N>`: `ok` gets `data`, anything else cancels.
        case dataAnswer(data: [UInt8])
        /// The name line of an audio or file message.
        case attachmentName(MessageHeader)
        /// The client's answer to `server_data_size<N>` for a stored file.
        case downloadAnswer(GatewayDownload)
    }

    let id: UInt64
    let bus: GatewayBus
    private let registry: SessionRegistry
    let relays: RelayRegistry
    let channel: Channel
    let settings: Settings
    let logger: Logger

    let eventLoop: EventLoop
    /// Where writes made during a hand-over from the bus wait to be flushed together.
    private let outputBatch: OutputBatch
    var context: ChannelHandlerContext?
    private var flushScheduled = false
    /// Output of the current event-loop tick, not yet handed to the channel.
    private var pendingOutput: ByteBuffer?
    private var remoteAddress = ""
    var framer = LineFramer()
    private var sequencer = ReplySequencer()
    var phase = Phase.login
    /// The reply slot of a relay connection still waiting for its partner.
    var pendingRelaySlot: ReplySequencer.Slot?
    var expectation = Expectation.command
    /// A request whose answer decides how later lines are read (sign-in, history) is in flight.
    var awaitingGatingReply = false
    private var outstandingReplies = 0
    private var heldPushes: [[UInt8]] = []
    private var heldPushBytes = 0
    /// Why the connection is not reading from its socket now; it reads when this is empty.
    var readPauses: ReadPauses = [] {
        didSet { if readPauses.isEmpty != oldValue.isEmpty { context?.channel.setOption(ChannelOptions.autoRead, value: readPauses.isEmpty).whenFailure { _ in } } }
    }
    private var isProcessingLines = false
    private var partialLineProgress = 0
    /// The upload or download under way, if any.
    var upload: GatewayUpload?
    var download: GatewayDownload?
    private var closeWhenRepliesSent = false
    private var kicked = false
    private var partialLineTimerGeneration = 0
    private var partialLineTimerArmed = false

    init(id: UInt64, channel: Channel, bus: GatewayBus, registry: SessionRegistry, relays: RelayRegistry, outputBatch: OutputBatch,
         settings: Settings, logger: Logger) {
        self.id = id
        self.channel = channel
        self.eventLoop = channel.eventLoop
        self.outputBatch = outputBatch
        self.relays = relays
        self.bus = bus
        self.registry = registry
        self.settings = settings
        var logger = logger
        logger[metadataKey: "gateway.connection"] = "\(id)"
        self.logger = logger
    }

    // MARK: Channel events

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        remoteAddress = context.remoteAddress.map(Self.hostAndPort) ?? "unknown"
        registry.add(self)
        context.eventLoop.scheduleTask(in: settings.loginTimeout) { [self] in
            if case .login = phase, self.context != nil {
                logger.debug("closing a connection that did not sign in in time")
                close()
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .session(let uid, _) = phase, !kicked {
            bus.send(.detach(uid: uid, connection: id), to: .router)
        }
        abandonTransfers()
        relayClosed()
        registry.remove(id)
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if case .relay(let partner) = phase { return relayRead(buffer, to: partner) }
        if upload != nil { receiveUploadBytes(&buffer) }
        buffer.withUnsafeReadableBytes { framer.append($0) }
        processLines()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // A client that does not read its replies does not get more commands served.
        readPauses.set(.outputBacklog, !context.channel.isWritable)
        if context.channel.isWritable { requestDownloadChunks() }
        relayWritabilityChanged()
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug("connection error", metadata: ["gateway.error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: From the bus, on this connection's event loop

    func deliverPush(_ bytes: [UInt8]) {
        guard context != nil else { return }
        if isInDataExchange {
            heldPushes.append(bytes)
            heldPushBytes += bytes.count
            if heldPushBytes > settings.maxUnsentOutput { dropSlowReader() }
        } else {
            write(bytes)
        }
    }

    func kick() {
        guard context != nil else { return }
        kicked = true
        write(ServerReply.signedInElsewhere.line)
        close()
    }

    var isRelaying: Bool {
        switch phase {
        case .relay, .relayWaiting: return true
        default: return false
        }
    }

    /// From `server_data_size<N>` to its last byte or the cancelling answer, and from an
    /// upload's first `ok` to its final reply: pushes wait, so they never land in the data.
    var isInDataExchange: Bool {
        switch expectation {
        case .dataAnswer, .downloadAnswer: return true
        default: return upload != nil || download != nil
        }
    }

    // MARK: Reading lines

    func processLines() {
        // Replies finished while handling a line re-enter here; the loop below goes on anyway.
        guard !isProcessingLines else { return }
        isProcessingLines = true
        while context != nil, !awaitingGatingReply, !closeWhenRepliesSent, upload == nil, !isRelaying,
              outstandingReplies < settings.maxOutstandingReplies, let event = framer.next() {
            handle(event)
        }
        isProcessingLines = false
        // Lines wait while a reply gates them: stop reading rather than buffer without bound.
        readPauses.set(.lineBacklog, framer.bufferedByteCount > settings.maxBufferedInput)
        armPartialLineTimer()
    }

    private func handle(_ event: LineFramer.Event) {
        let current = expectation
        expectation = .command
        switch (current, event) {
        case (.dataAnswer(let data), .line(let answer)):
            if answer == Array("ok".utf8) { write(data) }
            endDataExchange()
        case (.dataAnswer, .tooLong):
            endDataExchange()
            reply(.messageTooLong)
        case (.downloadAnswer(let download), .line(let answer)):
            answerDownload(download, accepted: answer == Array("ok".utf8))
        case (.downloadAnswer(let download), .tooLong):
            answerDownload(download, accepted: false)
            reply(.messageTooLong)
        case (.attachmentName(let header), .line(let name)):
            handleAttachmentName(Array(name), of: header)
        case (.content, .tooLong), (.droppedContent, .tooLong), (.command, .tooLong), (.attachmentName, .tooLong):
            // A too-long content line refuses its whole two-line command: one reply, nothing stored.
            reply(.messageTooLong)
        case (.droppedContent(let refusal), .line):
            reply(refusal)
        case (.content(let header), .line(let content)):
            handleContent(content, of: header)
        case (.command, .line(let line)):
            switch phase {
            case .login: handleLogin(line)
            case .session(let uid, let parser): handleSession(line, uid: uid, parser: parser)
            case .relay, .relayWaiting: break
            }
        }
    }

    // MARK: Login phase

    private func handleLogin(_ line: [UInt8]) {
        guard let command = LoginCommand(line: line) else { return reply(.wrongSignCommand) }
        switch command {
        case .offline:
            closeAfterReplies()
        case .p2pRelay(let token):
            joinRelay(token: token)
        case .signUp(let uid, let password):
            let slot = reserveGated()
            bus.request(.signUp(uid: uid, password: password), to: .auth, on: eventLoop) { [self] result in
                finishGated(slot, ReplyMapping.signUp(result))
            }
        case .signIn(let uid, let password):
            let slot = reserveGated()
            bus.request(.signIn(uid: uid, password: password), to: .auth, on: eventLoop) { [self] result in
                guard case .success(.authOutcome(.signedIn)) = result else {
                    return finishGated(slot, ReplyMapping.signIn(result))
                }
                // Gone while the password was checked: do not displace a live session.
                guard context != nil else { return }
                attach(uid: uid, slot: slot)
            }
        }
    }

    private func attach(uid: String, slot: ReplySequencer.Slot) {
        let entry = PresenceEntry(uid: uid, connection: id, publicAddress: remoteAddress)
        bus.request(.attach(entry), to: .router, on: eventLoop) { [self] result in
            guard case .success(.attached) = result else {
            // The router may have attached us and only the answer got lost: take it back.
            bus.send(.detach(uid: uid, connection: id), to: .router)
            return finishGated(slot, .serviceUnavailable)
        }
            guard context != nil else {
                // Gone while signing in: take the presence back.
                bus.send(.detach(uid: uid, connection: id), to: .router)
                return
            }
            phase = .session(uid: uid, parser: SessionCommandParser(uid: uid))
            logger.debug("signed in", metadata: ["gateway.uid": "\(uid)"])
            finishGated(slot, .signInSucceeded)
        }
    }

    // MARK: Session phase

    private func handleSession(_ line: [UInt8], uid: String, parser: SessionCommandParser) {
        switch parser.parse(line) {
        case .refused(let refusal):
            reply(refusal)
        case .refusedTwoLine(let refusal):
            expectation = .droppedContent(reply: refusal)
        case .command(.offline):
            closeAfterReplies()
        case .command(.message(let header)):
            switch header.kind {
            case .text:
                expectation = .content(header)
            case .audio, .file:
                expectation = .attachmentName(header)
            }
        case .command(.addFriend(let peer)):
            let slot = reserve()
            bus.request(.addFriend(owner: uid, friend: peer), to: .auth, on: eventLoop) { [self] result in
                // Only a new friendship is announced; adding again changes nothing.
                if case .success(.authOutcome(.friendAdded)) = result {
                    bus.send(.notify(to: peer, bytes: Array("\(uid) to \(peer) addFriend\n".utf8)), to: .router)
                }
                finish(slot, ReplyMapping.addFriend(result))
            }
        case .command(.p2p(let command)):
            introduce(command, uid: uid)
        case .command(.friends):
            let slot = reserve()
            bus.request(.listFriends(owner: uid), to: .auth, on: eventLoop) { [self] result in
                guard case .success(.friendList(let friends)) = result else { return finish(slot, .serviceUnavailable) }
                bus.request(.queryPresence(friends), to: .router, on: eventLoop) { [self] result in
                    guard case .success(.presence(let online)) = result, online.count == friends.count else {
                        return finish(slot, .serviceUnavailable)
                    }
                    finish(slot, .friends(Array(zip(friends, online)).map { (uid: $0.0, online: $0.1) }))
                }
            }
        case .command(.historyAll(let peer)):
            let slot = reserveGated()
            whenUserExists(peer, slot: slot) { [self] in
                bus.request(.fetchHistory(pair: PairKey(uid, peer)), to: .storage(PairKey(uid, peer)), on: eventLoop) { [self] result in
                    guard case .success(.history(let records)) = result else { return finishGated(slot, .serviceUnavailable) }
                    guard !records.isEmpty else { return finishGated(slot, .noHistoryYet) }
                    expectation = .dataAnswer(data: records)
                    finishGated(slot, .dataSize(records.count))
                }
            }
        case .command(.historyFile(let peer, let name)):
            openDownload(of: name, with: peer, me: uid)
        }
    }

    /// Peer-to-peer commands: the router introduces the peers; nothing is stored.
    private func introduce(_ command: P2PCommand, uid: String) {
        let slot = reserve()
        let request: BusMessage
        switch command {
        case .offer(let peer, let size, let sha256, let privateEndpoint, let name):
            request = .p2pOffer(from: uid, to: peer, size: size, sha256: sha256, name: name, privateEndpoint: privateEndpoint)
        case .accept(let token, let privateEndpoint):
            request = .p2pAccept(by: uid, token: token, privateEndpoint: privateEndpoint)
        case .decline(let token):
            request = .p2pDecline(by: uid, token: token)
        }
        bus.request(request, to: .router, on: eventLoop) { [self] result in
            finish(slot, ReplyMapping.p2p(result))
        }
    }

    private func handleContent(_ content: [UInt8], of header: MessageHeader) {
        guard Identifiers.isValidUTF8(content) else { return reply(.wrongInteractCommand) }
        var record = header.line
        record.reserveCapacity(header.line.count + content.count + 2)
        record.append(UInt8(ascii: "\n"))
        record.append(contentsOf: content)
        record.append(UInt8(ascii: "\n"))
        bus.deliverText(TextSubmission(from: header.sender, to: header.recipient, record: record, connection: self, slot: reserve()))
    }

    /// Runs `body` if `peer` exists; otherwise answers the gated `slot` for it.
    func whenUserExists(_ peer: String, slot: ReplySequencer.Slot, _ body: @escaping () -> Void) {
        bus.request(.userExists(uid: peer), to: .auth, on: eventLoop) { [self] result in
            switch result {
            case .success(.existence(true)): body()
            case .success(.existence(false)): finishGated(slot, .uidNotExits)
            default: finishGated(slot, .serviceUnavailable)
            }
        }
    }

    // MARK: Replies, in command order

    func reply(_ reply: ServerReply) {
        finish(reserve(), reply)
    }

    func reserve() -> ReplySequencer.Slot {
        outstandingReplies += 1
        return sequencer.reserve()
    }

    /// Reserves a reply whose answer must arrive before any further line is read.
    func reserveGated() -> ReplySequencer.Slot {
        awaitingGatingReply = true
        return reserve()
    }

    func finish(_ slot: ReplySequencer.Slot, _ reply: ServerReply) {
        guard context != nil else { return }
        let wasAtLimit = outstandingReplies >= settings.maxOutstandingReplies
        outstandingReplies -= 1
        let ready = sequencer.fill(slot, with: reply.line)
        if !ready.isEmpty { write(ready) }
        if closeWhenRepliesSent && sequencer.isIdle { close() }
        // Reading stopped at the limit; now there is room again.
        if wasAtLimit { processLines() }
    }

    func finishGated(_ slot: ReplySequencer.Slot, _ reply: ServerReply) {
        awaitingGatingReply = false
        finish(slot, reply)
        processLines()
    }

    func endDataExchange() {
        let pushes = heldPushes
        heldPushes.removeAll()
        heldPushBytes = 0
        for push in pushes { write(push) }
    }

    // MARK: Output and closing

    /// Queues bytes; one flush at the end of this event-loop tick (or of the bus hand-over
    /// running now) sends everything written in it with one syscall.
    func write(_ bytes: [UInt8]) {
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
        if !context.channel.isWritable,
           let unsent = try? context.channel.syncOptions?.getOption(ChannelOptions.bufferedWritableBytes),
           unsent > settings.maxUnsentOutput {
            dropSlowReader()
        }
    }

    /// A client that leaves too much unread is closed rather than let it grow the gateway.
    private func dropSlowReader() {
        logger.warning("closing a connection that does not read what it is sent")
        context?.close(promise: nil)
    }

    private func closeAfterReplies() {
        closeWhenRepliesSent = true
        if sequencer.isIdle { close() }
    }

    func close() {
        flushOutput()
        context?.close(promise: nil)
    }

    /// Closes the connection when part of a line has sat unfinished for too long, counted
    /// from the last line end received (so a client streaming long lines is not cut off).
    private func armPartialLineTimer() {
        guard framer.hasPartialLine, upload == nil, !isRelaying else {
            if partialLineTimerArmed {
                partialLineTimerArmed = false
                partialLineTimerGeneration += 1
            }
            return
        }
        guard !partialLineTimerArmed else { return }
        partialLineTimerArmed = true
        let generation = partialLineTimerGeneration
        partialLineProgress = framer.lineEndsReceived
        eventLoop.scheduleTask(in: settings.partialLineTimeout) { [self] in
            guard partialLineTimerArmed, generation == partialLineTimerGeneration else { return }
            partialLineTimerArmed = false
            if framer.lineEndsReceived != partialLineProgress {
                // Lines kept completing; only the newest one is unfinished. Start over.
                return armPartialLineTimer()
            }
            logger.debug("closing a connection that left a line half-sent")
            close()
        }
    }

    private static func hostAndPort(_ address: SocketAddress) -> String {
        "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
    }
}
