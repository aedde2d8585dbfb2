import ChatBus
import ChatProtocol
import NIOCore

/// What a `ClientSession` asks its connection to do, in the order it must be done. The
/// session decides; the connection (`ClientConnection`) only performs.
enum SessionAction: Equatable {
    /// Queue these bytes for the client.
    case write([UInt8])
    /// Ask a worker; its answer comes back as `ClientSession.answered(_:_:)` with `then`.
    /// (Boxed, as `send` is: the bus message and the step are large, and every action is
    /// copied once; the per-text actions stay a few words.)
    indirect case request(BusMessage, to: BusDestination, then: PendingRequest)
    /// Tell a worker; no answer comes.
    indirect case send(BusMessage, to: BusDestination)
    /// A checked text to store and deliver; its reply arrives as `replyReady(slot:_:)`.
    case storeText(from: String, to: String, record: [UInt8], slot: ReplySequencer.Slot)
    /// Read from the socket, or stop (TCP then pushes back on the client).
    case setReading(Bool)
    /// Call `timerFired(_:)` after this long.
    case schedule(SessionTimer, after: TimeAmount)
    /// Send the stored file straight from storage's copy if this machine has it; answer
    /// `storedFileUnavailable` if not, `storedFileSent` when it is out.
    case sendStoredFile(path: String, size: Int64, download: UInt64)
    /// A larger write buffer while a download streams from storage (`Download.waterMark`),
    /// SwiftNIO's default otherwise.
    case useDownloadWriteBuffer(Bool)
    /// Pair with the relay connection waiting for this token, or wait for one.
    case joinRelay(token: String)
    case leaveRelay(token: String)
    /// Bytes for the relay partner.
    case relayForward([UInt8])
    /// Something worth a log line; changes nothing.
    case note(SessionNote)
    case close(CloseReason)
}

/// Where a bus request goes.
enum BusDestination: Equatable, Sendable {
    case auth
    case router
    /// The storage worker that owns the pair's partition.
    case storage(PairKey)
}

/// A bus request in flight and what its answer is for: the session's continuation.
enum PendingRequest: Equatable, Sendable {
    case signUp(ReplySequencer.Slot)
    case signIn(ReplySequencer.Slot, uid: String)
    case attach(ReplySequencer.Slot, uid: String)
    case addFriend(ReplySequencer.Slot, owner: String, peer: String)
    case listFriends(ReplySequencer.Slot)
    case resumeTicket(ReplySequencer.Slot)
    case friendsPresence(ReplySequencer.Slot, friends: [String])
    case p2p(ReplySequencer.Slot)
    case relayCheck(ReplySequencer.Slot, token: String)
    /// Does the peer exist? If so, go on with `then`.
    case userExists(ReplySequencer.Slot, then: AfterUserExists)
    /// The history's snapshot, to offer with `server_data_size<N>`.
    case openHistory(ReplySequencer.Slot, pair: PairKey)
    /// The next page of the history being sent (`Download.serial`).
    case historyPage(download: UInt64)
    /// The upload's size counted against its sender's stored-bytes quota; then storage is asked.
    case reserveStorage(ReplySequencer.Slot, header: MessageHeader, name: [UInt8])
    case beginUpload(ReplySequencer.Slot, header: MessageHeader, name: String, size: Int64)
    case uploadChunk(upload: UInt64, offset: Int64, byteCount: Int)
    /// The upload carried on at its partition's new owner.
    case resumeUpload(upload: UInt64, pair: PairKey)
    case finishUpload(upload: UInt64, from: String, to: String)
    case announce(upload: UInt64)
    case openDownload(ReplySequencer.Slot, pair: PairKey, name: String)
    /// `storageId`: the download's id at storage when asked (a reopened one has a new one).
    case readChunk(download: UInt64, storageId: UInt64, offset: Int64, length: Int)
    /// The download opened again at its partition's owner, its worker gone with a move.
    case reopenDownload(download: UInt64, pair: PairKey)
}

/// The step that waits for a peer to be known to exist.
enum AfterUserExists: Equatable, Sendable {
    case openHistory(PairKey)
    case beginUpload(MessageHeader, name: [UInt8])
    case openDownload(PairKey, name: String)
}

/// The session's deadlines. Each is a one-shot; a stale one (its upload or generation gone)
/// is ignored when it fires.
enum SessionTimer: Equatable, Sendable {
    case login
    case partialLine(generation: Int)
    case uploadIdle(upload: UInt64)
    case downloadStall(download: UInt64)
    case relayPartner
    /// A spliced relay's idle check, every `relayIdleTimeout`.
    case relayIdle
    /// The answer to `server_data_size<N>` (the `offer`th such exchange).
    case dataAnswer(offer: UInt64)
    /// A message held back by the message rate may go now.
    case messageRate
}

/// Why the session closes its connection.
enum CloseReason: Equatable {
    case offline
    case signedInElsewhere
    case loginTimeout
    case partialLineTimeout
    /// `server_data_size<N>` went unanswered.
    case dataAnswerTimeout
    /// Nothing, or less than the minimum rate, arrived for an upload between two checks.
    case uploadStalled
    case downloadStalled
    /// Storage failed mid-download (the session's `Download.serial`).
    case downloadFailed(download: UInt64)
    /// Sending the stored file failed (the client went away, mostly).
    case downloadInterrupted
    case relayPartnerMissing
    case slowReader
    /// The gateway's output budget is spent and this client's backlog is over its share.
    case overOutputBudget
    /// The other side of a relay went away.
    case relayPartnerGone
    /// A spliced relay carried nothing either way for a whole idle interval.
    case relayIdle
    /// A relay side sent more than its transfer was offered at, and the margin.
    case relayOverCap
}

enum SessionNote: Equatable {
    case signedIn(uid: String)
    case uploadFailed(upload: UInt64, reason: String)
    /// A streamed download's worker went with a move; the file is opened at the new owner.
    case downloadReopened(download: UInt64)
}
