import ChatBus
import ChatProtocol
import ChatRuntime
import NIOCore

/// One client's protocol session as a state machine: bytes, bus answers, deadlines and
/// pushes go in as events; what to write, ask, schedule or close comes out as
/// `SessionAction`s, in order, in `actions`. It touches no socket, thread or clock, so every
/// step can be tested alone; `ClientConnection` feeds it and performs what it asks.
///
/// States (see docs/architecture.md): the phase (`login`, `session`, `relayWaiting`,
/// `relay`), what the next line means (`expectation`), and the transfer under way.
struct ClientSession {
    struct Settings: Sendable {
        var loginTimeout: TimeAmount = .seconds(60)
        var partialLineTimeout: TimeAmount = .seconds(60)
        /// The slowest an upload may go, averaged over each partial-line timeout.
        var minUploadBytesPerSecond = 512
        /// How long a client may take to answer `server_data_size<N>` before it is closed.
        var dataAnswerTimeout: TimeAmount = .seconds(60)
        /// Largest file or voice message accepted through the server.
        var maxFileBytes: Int64 = 1 << 30
        /// Downloads may be sent from storage's own file when this machine has it.
        var sendLocalFiles = true
        /// Commands whose replies are still owed; past this the session stops reading lines.
        var maxOutstandingReplies = 4096
        /// Input waiting to be read as lines; past this the connection stops reading.
        var maxBufferedInput = 256 * 1024
        /// Output a client leaves unread (its pushes and replies) before it is disconnected.
        var maxUnsentOutput = 64 << 20
        /// How long a relay connection waits for its partner.
        var relayPartnerWait: TimeAmount = .seconds(30)
        /// A spliced relay that carries nothing either way for this long (to twice this) is closed.
        var relayIdleTimeout: TimeAmount = .seconds(60)
        /// Largest offered size the relay carries.
        var relayMaxBytes: Int64 = 1 << 32
        /// About this much of a history is asked of storage at a time, as the client reads.
        var historyPageBytes = 256 * 1024
        /// Messages (texts, voice, files, friend requests) a signed-in user may send per second,
        /// sustained; 0 means no limit.
        var messagesPerSecond = 20
        /// How many of them may go at once before `messagesPerSecond` holds the next back.
        var messageBurst = 100
    }

    enum Phase: Equatable {
        case login
        case session(uid: String)
        /// A peer-to-peer relay connection waiting for its partner; `slot` gets `p2p relay ready`.
        case relayWaiting(token: String, slot: ReplySequencer.Slot)
        /// Spliced to the partner: every byte read goes to it.
        case relay
    }

    /// What the next line means.
    enum Expectation: Equatable {
        case command
        /// The content line of a two-line message.
        case content(MessageHeader)
        /// The second line of a refused two-line command: read and dropped, then `reply`.
        case droppedContent(reply: ServerReply)
        /// The name line of an audio or file message.
        case attachmentName(MessageHeader)
        /// The client's answer to `server_data_size<N>` for a history or a stored file: `ok`
        /// starts the bytes, anything else cancels.
        case downloadAnswer(DownloadOffer)
    }

    let connectionId: UInt64
    let settings: Settings
    var phase = Phase.login
    var expectation = Expectation.command
    /// Parses session lines for the signed-in uid; made once at sign-in.
    var parser: SessionCommandParser?
    var framer = LineFramer()
    private var sequencer = ReplySequencer()
    /// A request whose answer decides how later lines are read (sign-in, history, a
    /// transfer) is in flight: no line is read until it is answered.
    var awaitingGatingReply = false
    private var outstandingReplies = 0
    /// Pushes held back during a data exchange, so they never land inside the data.
    private var heldPushes: [[UInt8]] = []
    private(set) var heldPushBytes = 0
    /// Why the connection is not reading from its socket now; it reads when this is empty.
    private(set) var readPauses: ReadPauses = []
    private var isProcessingLines = false
    private var closeWhenRepliesSent = false
    private var kicked = false
    /// A close was asked for, or the connection went away: nothing more is written.
    private(set) var isClosed = false
    private var remoteAddress = "unknown"
    /// What auth counts this client's sign-ins and sign-ups by (`ClientAddress.key`); nil if unknown.
    private(set) var addressKey: String?
    /// The family of this device's resumption tickets: the resumed ticket's, or named at the
    /// first ticket asked for after a password sign-in. `offline` revokes this family only.
    var ticketFamily: String?
    var partialLineTimer = PartialLineTimer()
    /// The upload or download under way, if any.
    var upload: Upload?
    var download: Download?
    /// Local serials for transfers, so an answer for an earlier one is never taken for the current.
    private var lastTransferSerial: UInt64 = 0
    /// Which `server_data_size<N>` offer the pending `dataAnswer` deadline is for.
    private var dataAnswerSerial: UInt64 = 0
    /// As last reported by the connection.
    var isOutputWritable = true
    /// A relay connection's allowance and activity, from its relay check on.
    var relayTraffic: RelayTraffic?
    /// The user's messages per second (`ClientSession+MessageRate.swift`).
    var messageRate: TokenBucket
    /// A message past the rate, waiting for its token; no line is read meanwhile.
    var heldByMessageRate: SessionCommand?
    /// When bytes were last read, in monotonic nanoseconds: the message rate's clock. Lines
    /// read later (behind a gating reply) count as read then, which only ever holds back more.
    var now: Int64 = 0

    /// What to do, oldest first. The connection performs and removes them after each event.
    var actions: [SessionAction] = []

    init(connectionId: UInt64, settings: Settings) {
        self.connectionId = connectionId
        self.settings = settings
        messageRate = TokenBucket(perSecond: settings.messagesPerSecond, burst: settings.messageBurst)
        actions.reserveCapacity(8)
    }

    /// Takes the actions asked for so far (tests; the connection drains `actions` in place).
    mutating func takeActions() -> [SessionAction] {
        defer { actions.removeAll() }
        return actions
    }

    // MARK: Connection events

    mutating func connected(remoteAddress: String, addressKey: String? = nil) {
        self.remoteAddress = remoteAddress
        self.addressKey = addressKey
        actions.append(.schedule(.login, after: settings.loginTimeout))
    }

    /// The connection is gone (closed by either side). Whatever it held is given back.
    mutating func disconnected() {
        isClosed = true
        if case .session(let uid) = phase, !kicked {
            actions.append(.send(.detach(uid: uid, connection: connectionId), to: .router))
        }
        abandonTransfers()
        if case .relayWaiting(let token, _) = phase { actions.append(.leaveRelay(token: token)) }
    }

    /// Bytes read from the socket at `now`.
    mutating func received(_ buffer: ByteBuffer, at now: NIODeadline) {
        buffer.withUnsafeReadableBytes { received($0, at: now) }
    }

    mutating func received(_ bytes: UnsafeRawBufferPointer, at now: NIODeadline) {
        self.now = Int64(clamping: now.uptimeNanoseconds)
        if case .relay = phase { return relayReceived(bytes) }
        var rest = bytes
        if let toReceive = upload?.toReceive, toReceive > 0 {
            let count = Int(min(Int64(rest.count), toReceive))
            if count > 0 {
                acceptUploadBytes(Array(rest[..<count]))
                rest = UnsafeRawBufferPointer(rebasing: rest[count...])
                pumpUpload()
            }
        }
        framer.append(rest)
        processLines()
    }

    mutating func writabilityChanged(isWritable: Bool) {
        isOutputWritable = isWritable
        // A client that does not read its replies does not get more commands served.
        setPause(.outputBacklog, !isWritable)
        if isWritable { requestDownloadChunks() }
    }

    mutating func timerFired(_ timer: SessionTimer) {
        switch timer {
        case .login:
            if case .login = phase, !isClosed { close(.loginTimeout) }
        case .partialLine(let generation):
            partialLineTimerFired(generation: generation)
        case .uploadIdle(let serial):
            uploadIdleCheck(serial)
        case .downloadStall:
            break // needs the connection's unsent byte count: `downloadStallCheck`
        case .messageRate:
            break // needs the time: `messageRateRefilled(at:)`
        case .dataAnswer(let offer):
            // Still unanswered: what was offered would otherwise be held for good.
            if offer == dataAnswerSerial, isAwaitingDataAnswer { close(.dataAnswerTimeout) }
        case .relayPartner:
            if case .relayWaiting(let token, _) = phase {
                actions.append(.leaveRelay(token: token))
                close(.relayPartnerMissing)
            }
        case .relayIdle:
            relayIdleCheck()
        }
    }

    /// A push for this user from the router.
    mutating func push(_ bytes: [UInt8]) {
        guard !isClosed else { return }
        if isInDataExchange {
            heldPushes.append(bytes)
            heldPushBytes += bytes.count
            if heldPushBytes > settings.maxUnsentOutput { close(.slowReader) }
        } else {
            write(bytes)
        }
    }

    /// The user signed in on another connection.
    mutating func kick() {
        guard !isClosed else { return }
        kicked = true
        write(ServerReply.signedInElsewhere.line)
        close(.signedInElsewhere)
    }

    /// A text's reply, delivered apart from the request path (`SessionAction.storeText`).
    mutating func replyReady(slot: ReplySequencer.Slot, _ reply: ServerReply) {
        finish(slot, reply)
    }

    /// A bus answer for a request this session made.
    mutating func answered(_ request: PendingRequest, _ answer: Result<BusMessage, BusRequestError>) {
        switch request {
        case .signUp(let slot):
            finishGated(slot, ReplyMapping.signUp(answer))
        case .signIn(let slot, let uid):
            switch answer {
            case .success(.authOutcome(.signedIn)): ticketFamily = nil
            case .success(.resumed(let family)): ticketFamily = family
            default: return finishGated(slot, ReplyMapping.signIn(answer))
            }
            // Gone while the password was checked: do not displace a live session.
            guard !isClosed else { return }
            let entry = PresenceEntry(uid: uid, connection: connectionId, publicAddress: remoteAddress)
            actions.append(.request(.attach(entry), to: .router, then: .attach(slot, uid: uid)))
        case .attach(let slot, let uid):
            attached(uid: uid, slot: slot, answer)
        case .addFriend(let slot, let owner, let peer):
            // Only a new friendship is announced; adding again changes nothing.
            if case .success(.authOutcome(.friendAdded)) = answer {
                actions.append(.send(.notify(to: peer, bytes: Push.addFriend(from: owner, to: peer).bytes), to: .router))
            }
            finish(slot, ReplyMapping.addFriend(answer))
        case .resumeTicket(let slot):
            switch answer {
            case .success(.ticket(let ticket)): finish(slot, .resumeTicket(ticket))
            case .success(.authOutcome(.ticketFamilyRevoked)): finish(slot, .permissionDenied)
            default: finish(slot, .serviceUnavailable)
            }
        case .listFriends(let slot):
            guard case .success(.friendList(let friends)) = answer else { return finish(slot, .serviceUnavailable) }
            actions.append(.request(.queryPresence(friends), to: .router, then: .friendsPresence(slot, friends: friends)))
        case .friendsPresence(let slot, let friends):
            guard case .success(.presence(let online)) = answer, online.count == friends.count else {
                return finish(slot, .serviceUnavailable)
            }
            finish(slot, .friends(zip(friends, online).map { (uid: $0.0, online: $0.1) }))
        case .p2p(let slot):
            finish(slot, ReplyMapping.p2p(answer))
        case .relayCheck(let slot, let token):
            relayChecked(token: token, slot: slot, answer)
        case .userExists(let slot, let next):
            switch answer {
            case .success(.existence(true)): userExists(slot: slot, then: next)
            case .success(.existence(false)): finishGated(slot, .uidNotExits)
            default: finishGated(slot, .serviceUnavailable)
            }
        case .openHistory(let slot, let pair):
            historyOpened(slot: slot, pair: pair, answer)
        case .historyPage(let serial):
            historyPageRead(serial: serial, answer)
        case .reserveStorage(let slot, let header, let name):
            storageReserved(slot: slot, header: header, name: name, answer)
        case .beginUpload(let slot, let header, let name, let size):
            uploadBegun(slot: slot, header: header, name: name, size: size, answer)
        case .uploadChunk(let serial, let offset, let count):
            uploadChunkStored(serial: serial, offset: offset, byteCount: count, answer)
        case .resumeUpload(let serial, let pair):
            uploadResumed(serial: serial, pair: pair, answer)
        case .finishUpload(let serial, let sender, let recipient):
            uploadFinished(serial: serial, sender: sender, recipient: recipient, answer)
        case .announce(let serial):
            guard upload?.serial == serial else { return }
            completeUpload(ReplyMapping.delivery(answer))
        case .openDownload(let slot, let pair, let name):
            downloadOpened(slot: slot, pair: pair, name: name, answer)
        case .readChunk(let serial, let storageId, let offset, let length):
            chunkRead(serial: serial, storageId: storageId, offset: offset, length: length, answer)
        case .reopenDownload(let serial, let pair):
            downloadReopened(serial: serial, pair: pair, answer)
        }
    }

    /// From `server_data_size<N>` to its last byte or the cancelling answer, and from an
    /// upload's first `ok` to its final reply: pushes wait, so they never land in the data.
    var isInDataExchange: Bool {
        isAwaitingDataAnswer || upload != nil || download != nil
    }

    /// `server_data_size<N>` was sent and its answer has not come yet.
    var isAwaitingDataAnswer: Bool {
        switch expectation {
        case .downloadAnswer: return true
        default: return false
        }
    }

    /// Answers `slot` with `server_data_size<byteCount>`, reads the next line as `awaiting`
    /// says, and arms the deadline for that answer.
    mutating func offerData(awaiting: Expectation, byteCount: Int, slot: ReplySequencer.Slot) {
        expectation = awaiting
        dataAnswerSerial += 1
        actions.append(.schedule(.dataAnswer(offer: dataAnswerSerial), after: settings.dataAnswerTimeout))
        finishGated(slot, .dataSize(byteCount))
    }

    var isRelaying: Bool {
        switch phase {
        case .relay, .relayWaiting: return true
        default: return false
        }
    }

    // MARK: Reading lines

    mutating func processLines() {
        // Replies finished while handling a line re-enter here; the loop below goes on anyway.
        guard !isProcessingLines else { return }
        isProcessingLines = true
        while !isClosed, !awaitingGatingReply, !closeWhenRepliesSent, upload == nil, !isRelaying, heldByMessageRate == nil,
              outstandingReplies < settings.maxOutstandingReplies, let event = framer.next() {
            handle(event)
        }
        isProcessingLines = false
        // Lines wait while a reply gates them: stop reading rather than buffer without bound.
        setPause(.lineBacklog, framer.bufferedByteCount > settings.maxBufferedInput)
        armPartialLineTimer()
    }

    private mutating func handle(_ event: LineFramer.Event) {
        let current = expectation
        expectation = .command
        switch (current, event) {
        case (.downloadAnswer(let offer), .line(let answer)):
            answerDownload(offer, accepted: DataAnswer(line: answer) == .accept)
        case (.downloadAnswer(let offer), .tooLong):
            answerDownload(offer, accepted: false)
            reply(.messageTooLong)
        case (.attachmentName(let header), .line(let name)):
            handleAttachmentName(name, of: header)
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
            case .session: handleSession(line)
            case .relay, .relayWaiting: break
            }
        }
    }

    // MARK: Replies, in command order

    mutating func reply(_ reply: ServerReply) {
        finish(reserve(), reply)
    }

    mutating func reserve() -> ReplySequencer.Slot {
        outstandingReplies += 1
        return sequencer.reserve()
    }

    /// Reserves a reply whose answer must arrive before any further line is read.
    mutating func reserveGated() -> ReplySequencer.Slot {
        awaitingGatingReply = true
        return reserve()
    }

    mutating func finish(_ slot: ReplySequencer.Slot, _ reply: ServerReply) {
        guard !isClosed else { return }
        let wasAtLimit = outstandingReplies >= settings.maxOutstandingReplies
        outstandingReplies -= 1
        let ready = sequencer.fill(slot, with: reply.line)
        if !ready.isEmpty { write(ready) }
        if closeWhenRepliesSent && sequencer.isIdle { close(.offline) }
        // Reading stopped at the limit; now there is room again.
        if wasAtLimit { processLines() }
    }

    mutating func finishGated(_ slot: ReplySequencer.Slot, _ reply: ServerReply) {
        awaitingGatingReply = false
        finish(slot, reply)
        processLines()
    }

    mutating func endDataExchange() {
        let pushes = heldPushes
        heldPushes.removeAll()
        heldPushBytes = 0
        for push in pushes { write(push) }
    }

    // MARK: Output, pauses and closing

    mutating func write(_ bytes: [UInt8]) {
        guard !isClosed else { return }
        actions.append(.write(bytes))
    }

    mutating func setPause(_ reason: ReadPauses, _ on: Bool) {
        let wasReading = readPauses.isEmpty
        readPauses.set(reason, on)
        if readPauses.isEmpty != wasReading { actions.append(.setReading(readPauses.isEmpty)) }
    }

    mutating func closeAfterReplies() {
        closeWhenRepliesSent = true
        if sequencer.isIdle { close(.offline) }
    }

    mutating func close(_ reason: CloseReason) {
        guard !isClosed else { return }
        isClosed = true
        actions.append(.close(reason))
    }

    mutating func nextTransferSerial() -> UInt64 {
        lastTransferSerial += 1
        return lastTransferSerial
    }
}
