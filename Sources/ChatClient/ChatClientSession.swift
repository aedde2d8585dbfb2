import ChatProtocol
import Foundation

/// The line-mode client: the user's commands on one thread, everything the server sends on
/// another, so messages appear while the user types. The session's chat lives in memory only.
///
/// Unchecked: every mutable field is read and written only while holding `state` (a condition,
/// which the threads also wait on, so not a `Mutex`); the rest is immutable or Sendable.
public final class ChatClientSession: @unchecked Sendable {
    /// What a reply in the queue answers, in the order the commands were sent.
    enum Awaited {
        case signUp
        /// `wire`: the hash sent for the password, kept once it signs in, to sign in again
        /// after a lost connection (the typed password is never kept).
        case signIn(uid: String, wire: String)
        /// A text to `peer`.
        case send(peer: String)
        case history(peer: String)
        case addFriend
        case friends
        /// The go-ahead (or refusal) for an upload.
        case uploadStart
        /// The reply once the uploaded bytes are stored.
        case uploadFinal
        case download(peer: String, name: String)
        case p2pOffer(OutgoingTransfer)
        case p2pAccept(token: String)
        case p2pDecline
        /// A resumption ticket asked for after signing in: its reply is kept, never shown.
        case resumeTicket

        var isTicketRequest: Bool {
            if case .resumeTicket = self { return true }
            return false
        }
    }

    /// What the reader thread decided about the upload the user thread waits to send.
    enum UploadDecision {
        case waiting, send, refused
    }

    /// The connection in use; replaced by a reconnect.
    var link: LineConnection
    /// Where every event goes: printed for a person, or as JSON (`chat --json`).
    let report: @Sendable (ClientEvent) -> Void
    /// Where transfers' progress goes as events (`chat --json`); nil: a bar on a terminal.
    let progressEvents: (@Sendable (ClientEvent) -> Void)?
    let state = NSCondition()
    private let sendLock = NSLock()
    var awaited: [Awaited] = []
    var signedInUID: String?
    /// The wire hash `signedInUID` signed in with, to sign in again after a reconnect; nil when
    /// signed in with the ticket file's ticket.
    var signedInWire: String?
    /// The ticket to resume with after a lost connection (docs/protocol.md, "Session
    /// resumption"): good once, replaced after each sign-in; in memory, and in `ticketFile`
    /// when the user keeps one (`keepTicket`).
    var resumeTicket: String?
    /// `chat --ticket-file`: the ticket kept across runs too, and leaving (`/quit`, the end of
    /// the input) does not sign out; `/signout` does.
    let ticketFile: TicketFile?
    /// The user asked to sign out (`/signout`).
    var signingOut = false
    /// Signed out: no ticket is kept any more, whatever still arrives.
    var ticketsEnded = false
    /// Held while a ticket is kept (`keepTicket`), from the state to the file.
    let ticketFileOrder = NSLock()
    private var currentPeer: String?
    /// Connected (and signed in again, if the user was) on `link`; false while reconnecting.
    var online = true
    /// Gone for good: the run ends.
    private var closed = false
    /// The connection was lost and not regained: the run's outcome says so.
    var lostForGood = false
    /// The user quits: the connection's end is expected, not reconnected.
    var quitting = false
    /// The server ended this session because the user signed in elsewhere: no reconnect,
    /// which would end that other session in turn.
    var signedInElsewhere = false
    /// Commands that failed (refused, or not sent): script mode's exit status.
    var failedCommands = 0
    var uploadDecision = UploadDecision.waiting
    let downloads: DownloadsFolder
    let peerOptions: PeerOptions
    let server: ServerAddress
    /// How long to keep trying to reconnect after a lost connection; 0: never.
    let reconnectSeconds: Double
    /// How long the server may take to answer before the connection counts as lost (and is
    /// replaced): its own deadlines answer within seconds (`Service unavailable` at worst).
    let replyLimit: Double
    var outgoingTransfers: [String: OutgoingTransfer] = [:]
    var incomingOffers: [String: IncomingOffer] = [:]
    var activeTransfers = 0
    /// Friends and peers seen this session: what Tab completes after `/to` and the like.
    var knownUIDs: Set<String> = []
    /// A data exchange (an upload's bytes, a download's or a history's) holds the connection:
    /// nothing else may be sent until it ends, not even the reader's auto-accepts, which wait
    /// in `deferredCommands`.
    var exchangeUnderWay = false
    /// The last reconnect, to carry its deadline on if the new connection is lost soon.
    var reconnectAttempt: ReconnectAttempt?
    var deferredCommands: [(ClientCommand, Awaited)] = []
    /// An upload's bytes are going out: the reply clock waits for them.
    var uploading = false
    /// Since when a reply has been awaited without anything arriving (nil: none awaited).
    var awaitingSince: Date?
    /// The links of the transfers under way, and the searches for one, to cut them when the
    /// user quits; after that, no new transfer starts.
    var transferLinks: [ObjectIdentifier: ByteStream] = [:]
    var punchers: [ObjectIdentifier: HolePuncher] = [:]
    var transfersCancelled = false
    var endedTransfers = 0

    public init(server: ServerAddress, downloads: DownloadsFolder = DownloadsFolder(path: "downloads"),
                peerOptions: PeerOptions = PeerOptions(), reconnectSeconds: Double = 600, replyLimit: Double = 60,
                progressAsEvents: Bool = false, ticketFile: TicketFile? = nil,
                report: @escaping @Sendable (ClientEvent) -> Void) throws {
        link = try LineConnection(to: server)
        self.ticketFile = ticketFile
        self.downloads = downloads
        self.peerOptions = peerOptions
        self.server = server
        self.reconnectSeconds = reconnectSeconds
        self.replyLimit = replyLimit
        self.report = report
        progressEvents = progressAsEvents ? report : nil
    }

    /// How a run ended.
    public struct Outcome: Sendable, Equatable {
        /// Commands refused by the server, or not sent (bad input, no connection).
        public let failedCommands: Int
        /// The connection was lost and not regained (or the user signed in elsewhere).
        public let connectionLost: Bool
    }

    /// The connection in use now.
    var connection: LineConnection { withState { link } }

    /// Leaving signs the user out (`offline`): always, but with a ticket file unless asked
    /// (`/signout`), since the saved ticket should stay good for the next run (closing the
    /// connection takes the user offline all the same). Read with `state` held.
    var leavesSignedOut: Bool { ticketFile == nil || signingOut }

    /// Reads commands from `nextLine` until it returns nil or `/quit`. `interactive`: a `/quit`
    /// while a transfer is under way asks first, and a second cancels it; a script's waits for it.
    public func run(interactive: Bool = false, nextLine: () -> String?) -> Outcome {
        let resumed = resumeWithSavedTicket()
        let reader = Thread { [self] in readServer() }
        reader.start()
        if resumed { askForNextTicket() }
        var quitAsked = false
        while !isClosed, let line = nextLine() {
            // The connection may have been given up while the user typed.
            if isClosed { break }
            let parsed = UserCommand.parse(line)
            if case .success(let command) = parsed, command == .quit || command == .signOut {
                withState { signingOut = command == .signOut }
                let transfers = withState { activeTransfers }
                guard interactive, transfers > 0 else { break }
                if quitAsked {
                    cancelTransfers()
                    break
                }
                quitAsked = true
                output("a transfer is under way: \(line) again to cancel it and leave")
                continue
            }
            quitAsked = false
            switch parsed {
            case .success(let command): execute(command)
            case .failure(.empty): continue
            case .failure(let error): fail("error: \(error)")
            }
        }
        waitForReplies()
        // Direct transfers under way would end with the connection (the punching port is its).
        let deadline = Date().addingTimeInterval(600)
        state.lock()
        while activeTransfers > 0 && state.wait(until: deadline) {}
        // From here the connection's end is the user's doing: nothing to say or reconnect.
        quitting = true
        let signOut = leavesSignedOut
        if signOut { ticketsEnded = true }
        let sayGoodbye = online && !closed && signOut
        state.broadcast()
        state.unlock()
        if signOut { keepTicket(nil) }
        if signOut && !sayGoodbye && ticketFile != nil {
            output("not connected: the saved ticket is removed; the server is told only if the reconnect under way gets through")
        }
        if sayGoodbye { try? connection.send(.offline) }
        else { connection.shutdown() }
        // The reader ends with the connection: nothing it still reads is taken for a reconnect.
        // A sign-in under way on a new connection (at most 30 s) is waited for: it ends what
        // the user asked (`leave`).
        waitForClose(timeout: sayGoodbye ? 5 : 35)
        connection.shutdown()
        return withState { Outcome(failedCommands: failedCommands, connectionLost: lostForGood || signedInElsewhere) }
    }

    /// What Tab completes for `word` in `line`: commands, and the uids seen this session.
    public func completions(line: String, word: String) -> [String] {
        CommandCompletion.candidates(line: line, word: word, uids: withState { knownUIDs })
    }

    /// A note for the user (the connection's state, a hint).
    func output(_ line: String) { report(ClientEvent(.notice, line)) }

    /// Tells of a command that failed (`line`: `error: ...`), and counts it.
    func fail(_ line: String) {
        withState { failedCommands += 1 }
        report(ClientEvent(.error, line, ["message": .string(line.hasPrefix("error: ") ? String(line.dropFirst(7)) : line)]))
    }

    /// `text`, `voice` or `file`, for a program reading the events.
    static func kindWord(_ kind: MessageHeader.Kind) -> String {
        switch kind {
        case .text: return "text"
        case .audio: return "voice"
        case .file: return "file"
        }
    }

    /// The server's reply `line`, shown escaped.
    func showReply(_ line: String, as text: String? = nil) {
        report(ClientEvent(.reply, text ?? TerminalText.escaped(line), ["reply": .string(line)]))
    }

    private var isClosed: Bool {
        state.lock()
        defer { state.unlock() }
        return closed
    }

    // MARK: Commands

    private func execute(_ command: UserCommand) {
        switch command {
        case .help:
            report(ClientEvent(.notice, UserCommand.helpText.split(separator: "\n").map(String.init)))
        case .wait(let seconds):
            Thread.sleep(forTimeInterval: seconds)
        case .quit, .signOut:
            break
        case .signUp(let uid, let password):
            send(.signUp(uid: uid, password: WirePassword.derive(uid: uid, password: password)), awaiting: .signUp)
        case .signIn(let uid, let password):
            let wire = WirePassword.derive(uid: uid, password: password)
            send(.signIn(uid: uid, password: wire), awaiting: .signIn(uid: uid, wire: wire))
        case .setPeer(let peer):
            withState {
                currentPeer = peer
                knownUIDs.insert(peer)
            }
            output("talking to \(peer); plain lines are sent to them")
        case .send(let peer, let text):
            guard let uid = requireSignedIn() else { return }
            guard let target = peer ?? withState({ currentPeer }) else { return fail("error: \(UserInputError.noPeer)") }
            guard text.utf8.count <= LineFramer.protocolMaxLineLength else { return fail("error: \(UserInputError.tooLong)") }
            if peer != nil {
                withState {
                    currentPeer = target
                    knownUIDs.insert(target)
                }
            }
            let header = MessageHeader(sender: uid, recipient: target, timestamp: MessageTimestamp.now(), kind: .text)
            send(.message(header: header, body: text), awaiting: .send(peer: target))
        case .history(let peer):
            guard let uid = requireSignedIn() else { return }
            send(.historyAll(uid: uid, peer: peer), awaiting: .history(peer: peer))
        case .addFriend(let peer):
            guard let uid = requireSignedIn() else { return }
            send(.addFriend(uid: uid, peer: peer), awaiting: .addFriend)
        case .friends:
            guard let uid = requireSignedIn() else { return }
            send(.friends(uid: uid), awaiting: .friends)
        case .sendFile(let peer, let path):
            let name = URL(fileURLWithPath: path).lastPathComponent
            guard FileNames.isValidFileName(Array(name.utf8)) else { return fail("error: \(UserInputError.badFileName(name))") }
            upload(path, named: name, voice: false, to: peer)
        case .sendVoice(let peer, let path):
            let ext = URL(fileURLWithPath: path).pathExtension
            let name = "\(MessageTimestamp.now())_audio.\(ext)"
            guard FileNames.isValidAudioName(Array(name.utf8)) else {
                return fail("error: a voice message needs an extension of 1 to 8 letters or digits (.mp3, .ogg, ...)")
            }
            upload(path, named: name, voice: true, to: peer)
        case .get(let peer, let name):
            guard let uid = requireSignedIn() else { return }
            send(.historyFile(uid: uid, peer: peer, name: name), awaiting: .download(peer: peer, name: name))
        case .p2p(let peer, let path):
            offer(path, to: peer)
        case .accept(let token):
            answerOffer(token, accept: true)
        case .decline(let token):
            answerOffer(token, accept: false)
        case .waitForTransfers(let count, let seconds):
            waitForTransfers(count: count, seconds: seconds)
        }
    }

    /// Sends the header and name, waits for the go-ahead, streams the file, waits for the reply.
    private func upload(_ path: String, named name: String, voice: Bool, to peer: String) {
        guard let uid = requireSignedIn() else { return }
        guard let file = FileHandle(forReadingAtPath: path),
              let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int64 else {
            return fail("error: \(UserInputError.unreadableFile(path))")
        }
        defer { try? file.close() }
        let header = MessageHeader(sender: uid, recipient: peer, timestamp: MessageTimestamp.now(),
                                   kind: voice ? .audio(size: size) : .file(size: size))
        // The bytes go on the connection that carried the header, never on a newer one.
        guard let uploadLink = send(.message(header: header, body: name), awaiting: .uploadStart) else { return }
        state.lock()
        while uploadDecision == .waiting && !closed { state.wait() }
        let decision = uploadDecision
        if decision == .send { uploading = true }
        state.unlock()
        // Refused (or the connection lost): the reader has ended the exchange.
        guard decision == .send else { return }
        let progress = ProgressBar(label: "sending \(name)", total: size, events: progressEvents)
        var sent: Int64 = 0
        while sent < size {
            let chunk = file.readData(ofLength: Int(min(1 << 20, size - sent)))
            guard !chunk.isEmpty else { break }
            do {
                try uploadLink.send([UInt8](chunk))
            } catch {
                endExchange()
                return fail("error: \(error)")
            }
            sent += Int64(chunk.count)
            progress.update(sent)
        }
        progress.finish()
        // The bytes are out: other commands may go, and the reply clock starts now.
        endExchange()
        waitForReplies()
    }

    /// The data exchange under way is over: deferred commands go now, awaited before anyone
    /// waiting on the exchange is woken (a script's end must wait for their replies too).
    func endExchange() {
        sendLock.lock()
        defer { sendLock.unlock() }
        let (deferred, link) = withState {
            exchangeUnderWay = false
            if uploading {
                uploading = false
                if !awaited.isEmpty { awaitingSince = Date() }
            }
            let deferred = online ? deferredCommands : []
            deferredCommands = []
            if !deferred.isEmpty && awaited.isEmpty { awaitingSince = Date() }
            awaited += deferred.map(\.1)
            state.broadcast()
            return (deferred, self.link)
        }
        for (command, _) in deferred { try? link.send(command) }
    }

    struct NotConnected: Error, CustomStringConvertible {
        var description: String { "not connected to the server (reconnecting); not sent" }
    }

    /// Records what the reply will answer and sends, as one step: the reader thread sends
    /// commands too (auto-accept), and replies must pair with commands in sending order.
    /// Returns the connection it went on. While reconnecting nothing is sent.
    @discardableResult
    func enqueue(_ command: ClientCommand, awaiting reply: Awaited) throws -> LineConnection {
        sendLock.lock()
        defer { sendLock.unlock() }
        let link = try withState {
            guard online else { throw NotConnected() }
            if awaited.isEmpty { awaitingSince = Date() }
            awaited.append(reply)
            switch reply {
            case .history, .download:
                exchangeUnderWay = true
            case .uploadStart:
                exchangeUnderWay = true
                uploadDecision = .waiting
            default:
                break
            }
            return self.link
        }
        try link.send(command)
        return link
    }

    /// From the reader thread (an auto-accept): sent now, or once the data exchange under way
    /// is over.
    func enqueueFromReader(_ command: ClientCommand, awaiting reply: Awaited) {
        let wait = withState {
            guard exchangeUnderWay else { return false }
            deferredCommands.append((command, reply))
            return true
        }
        if !wait { _ = try? enqueue(command, awaiting: reply) }
    }

    /// Asks for the ticket the next sign-in will resume with (once signed in): a reconnect
    /// then costs the server a lookup, not a password hash. Sent as any command is, its reply
    /// read by the reader, past the pushes a sign-in brings.
    func askForNextTicket() {
        guard let uid = withState({ signedInUID }) else { return }
        enqueueFromReader(.resumeTicket(uid: uid), awaiting: .resumeTicket)
    }

    func requireSignedIn() -> String? {
        guard let uid = withState({ signedInUID }) else {
            fail("error: \(UserInputError.notSignedIn)")
            return nil
        }
        return uid
    }

    /// Sends `command`, waiting first or after for the replies it depends on; returns the
    /// connection it went on, nil when it could not be sent (and the user was told).
    @discardableResult
    func send(_ command: ClientCommand, awaiting reply: Awaited) -> LineConnection? {
        // Data exchanges take the connection to themselves: earlier replies come first.
        switch reply {
        case .history, .download, .uploadStart: waitForReplies()
        default: break
        }
        // One exchange at a time, whoever's.
        waitForExchange()
        let link: LineConnection
        do {
            link = try enqueue(command, awaiting: reply)
        } catch {
            fail("error: \(error)")
            return nil
        }
        // Later commands depend on these (the signed-in uid; the connection back to commands).
        switch reply {
        case .signIn, .signUp: waitForReplies()
        case .history, .download:
            waitForReplies()
            waitForExchange()
        default: break
        }
        return link
    }

    // MARK: Server side

    /// The reader thread: everything the server sends, then, when the connection ends
    /// without the user quitting, a reconnect (`ChatClientSession+Reconnect`).
    private func readServer() {
        while true {
            readUntilClosed(connection)
            guard reconnectAfterLoss() else { break }
        }
        withState {
            closed = true
            state.broadcast()
        }
    }

    /// Reads until the connection ends. Waits in short slices, so that a reply that does not
    /// come within `replyLimit` ends it rather than leaving the user waiting for ever: every
    /// read has a deadline (a transfer's bytes have `LineConnection.idleLimit`).
    private func readUntilClosed(_ connection: LineConnection) {
        while true {
            guard let line = connection.readLine(until: Date().addingTimeInterval(min(1, replyLimit))) else {
                if connection.hasEnded { return }
                if let since = withState({ uploading ? nil : awaitingSince }), Date().timeIntervalSince(since) > replyLimit {
                    output("no answer from the server for \(Int(replyLimit)) s; dropping the connection")
                    connection.shutdown()
                    return
                }
                continue
            }
            switch PushFirstLine(line: Array(line.utf8)) {
            case .push(let push)?:
                showPush(push)
            case .messageHeader(let header)?:
                // A message push is two lines: its content or name line follows at once.
                showPush(.message(HistoryRecord(header: header, body: connection.readLine() ?? "")))
            case nil where ServerReply(text: line) == .signedInElsewhere:
                withState { signedInElsewhere = true }
                output("signed in elsewhere; this session is closed")
            case nil:
                handleReply(line)
            }
            // The server is there: the clock restarts for what is still awaited.
            withState { awaitingSince = awaited.isEmpty ? nil : Date() }
        }
    }

    /// Something was sent or arrived: the reply clock starts again.
    func madeProgress() {
        withState { if !awaited.isEmpty { awaitingSince = Date() } }
    }

    private func handleReply(_ line: String) {
        let next: Awaited? = withState { awaited.isEmpty ? nil : awaited.removeFirst() }
        let reply = ServerReply(text: line)
        if let next, CommandOutcome.isFailure(reply, answering: next) { withState { failedCommands += 1 } }
        defer {
            // A history or download answered (its data read, or refused) ends its exchange;
            // an upload's ends once its bytes are out (or it was refused).
            switch next {
            case .history?, .download?: endExchange()
            case .uploadStart? where reply != .ok: endExchange()
            default: break
            }
            withState { state.broadcast() }
        }
        switch (next, reply) {
        case (.signIn(let uid, let wire), .signInSucceeded?):
            withState {
                signedInUID = uid
                signedInWire = wire
            }
            showReply(line)
            askForNextTicket()
        case (.resumeTicket, _):
            // Kept if one came; a server without tickets says otherwise, and the password does.
            keepTicket(ServerReply.ticket(in: reply))
        case (.p2pOffer(let transfer), .p2pOffered(let token)?):
            withState { outgoingTransfers[token] = transfer }
            report(ClientEvent(.p2p, "p2p: offered \(transfer.name) to \(transfer.peer); waiting for them to accept",
                               ["phase": .string("offered"), "peer": .string(transfer.peer), "name": .string(transfer.name),
                                "token": .string(token)]))
        case (.p2pAccept(let accepted), .p2pConnect(let token, let peerPublic, let peerPrivate, let relayKey)?) where token == accepted:
            connectToOffer(token: token, peerPublic: peerPublic, peerPrivate: peerPrivate, relayKey: relayKey)
        case (.uploadStart, .ok?):
            withState {
                awaited.insert(.uploadFinal, at: 0)
                uploadDecision = .send
            }
        case (.uploadStart, _):
            showReply(line)
            withState { uploadDecision = .refused }
        case (.send(let peer), .serviceUnavailable?):
            showReply(line, as: UnsureSend.notice(peer: peer))
        case (.friends, .friends(let list)?):
            withState { knownUIDs.formUnion(list.map(\.uid)) }
            showReply(line)
        case (.p2pDecline, .ok?):
            report(ClientEvent(.p2p, "p2p: declined; the sender is told", ["phase": .string("declined")]))
        case (.uploadFinal, _):
            showReply(line, as: reply == .ok ? "sent" : nil)
        case (.download(_, let name), .dataSize(let count)?):
            receiveFile(named: name, size: Int64(count))
        case (.history(let peer), .dataSize(let count)?):
            try? connection.send(.dataAnswer(.accept))
            guard let data = connection.read(count: count) else {
                // Cut short or stalled: what is left of it must not be read as replies.
                connection.shutdown()
                return fail("error: the history did not arrive whole; reconnecting")
            }
            madeProgress()
            // Not records as the protocol writes them: shown as they came rather than lost,
            // line by line, escaped like any text from the network.
            let records = HistoryRecord.decodeAll(data)
            let lines = records.map { $0.map { "  " + $0.readable } } ?? data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                .map { TerminalText.escaped(String(decoding: $0, as: UTF8.self)) }
            var fields: [String: ClientEvent.Value] = ["peer": .string(peer)]
            if let records {
                fields["records"] = .objects(records.map { record in
                    ["from": record.header.sender, "to": record.header.recipient, "timestamp": record.header.timestamp,
                     "kind": Self.kindWord(record.header.kind), "body": record.body]
                })
            } else {
                fields["unreadable"] = .string(String(decoding: data, as: UTF8.self))
            }
            report(ClientEvent(.history, ["history with \(peer):"] + lines, fields))
        default:
            showReply(line)
        }
    }

    /// Saves a download into the downloads folder, streaming it to disk; a download cut
    /// short leaves nothing (`PartialFile`).
    private func receiveFile(named name: String, size: Int64) {
        guard let file = try? PartialFile(named: name, in: downloads) else {
            try? connection.send(.dataAnswer(.cancel))
            return fail("error: cannot write into \(downloads.path)")
        }
        try? connection.send(.dataAnswer(.accept))
        let progress = ProgressBar(label: "receiving \(name)", total: size, events: progressEvents)
        var received: Int64 = 0
        while received < size {
            guard let bytes = connection.readSome(upTo: Int(min(1 << 20, size - received))) else { break }
            madeProgress()
            do {
                try bytes.withUnsafeBytes { try file.write($0) }
            } catch {
                file.discard()
                // The rest cannot be skipped on this connection: a new one it is.
                connection.shutdown()
                return fail("error: \(error)")
            }
            received += Int64(bytes.count)
            progress.update(received)
        }
        progress.finish()
        guard received == size else {
            file.discard()
            // Stalled rather than closed, the rest must not be read as replies.
            connection.shutdown()
            return fail("error: connection lost after \(received) of \(size) bytes; nothing kept")
        }
        do {
            let path = try file.keep()
            report(ClientEvent(.saved, "saved \(path) (\(size) bytes)", ["path": .string(path), "size": .number(size)]))
        } catch {
            fail("error: \(error)")
        }
    }

    private func showPush(_ push: Push) {
        switch push {
        case .addFriend(let sender, _):
            report(ClientEvent(.push, "\(sender) added you as a friend", ["kind": .string("friend"), "from": .string(sender)]))
        case .p2pOffer, .p2pConnect, .p2pDeclined:
            showPeerPush(push)
        case .message(let record):
            let header = record.header
            withState { _ = knownUIDs.insert(header.sender) }
            let prefix = "[\(MessageTimestamp.readable(header.timestamp))] \(header.sender)"
            let body = TerminalText.escaped(record.body)
            let fetch = "(fetch it with /get \(header.sender) \(body))"
            let text: String
            switch header.kind {
            case .text: text = "\(prefix): \(body)"
            case .audio: text = "\(prefix) sent a voice message: \(body) \(fetch)"
            case .file: text = "\(prefix) sent a file: \(body) \(fetch)"
            }
            report(ClientEvent(.push, text, ["kind": .string(Self.kindWord(header.kind)), "from": .string(header.sender), "to": .string(header.recipient),
                                             "timestamp": .string(header.timestamp), "body": .string(record.body)]))
        }
    }

    // MARK: Waiting

    /// Until every reply awaited has come, or the connection is gone: not for ever, since the
    /// reader drops a connection whose server stays silent (`replyLimit`).
    private func waitForReplies() {
        state.lock()
        while !awaited.isEmpty && online && !closed { state.wait() }
        state.unlock()
    }

    /// Until no data exchange holds the connection (or it is gone).
    private func waitForExchange() {
        state.lock()
        while exchangeUnderWay && online && !closed { state.wait() }
        state.unlock()
    }

    private func waitForClose(timeout: Double) {
        let deadline = Date().addingTimeInterval(timeout)
        while !isClosed && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    }

    func withState<T>(_ body: () throws -> T) rethrows -> T {
        state.lock()
        defer { state.unlock() }
        return try body()
    }
}
