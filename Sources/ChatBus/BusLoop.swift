import CoreMetrics
import Foundation
import Logging
import Synchronization
import ZeroMQ

/// One thread that owns a set of ZeroMQ sockets and everything sent or received on them.
///
/// libzmq sockets are not thread-safe, so nothing but this loop touches them. Other threads
/// (SwiftNIO's event loops, hashing workers) hand it work with `execute`, which wakes the
/// loop through an eventfd it polls beside the sockets. Requests are matched to replies by
/// request id; a reply that arrives after its request timed out goes to `onReply` alone.
///
/// Unchecked Sendable, and safe: the only state other threads touch (`execute`, `stop`) is
/// behind `queueLock`; everything else belongs to the thread running `run` (asserted in debug
/// builds), or is set up before it starts.
public final class BusLoop: @unchecked Sendable {
    public struct SocketID: Hashable, Sendable {
        let index: Int
    }

    private struct PendingRequest {
        let onReply: (Result<BusMessage, BusRequestError>) -> Void
        /// The socket it went out on, whose worker's figures its answer or timeout counts in.
        let socket: Int
        /// When it was sent (`now()`), for its latency.
        let sentAt: UInt64
    }

    /// Envelopes waiting for the end of this wake-up for one peer (nil on a DEALER), and the
    /// requests among them (which fail if the batch cannot be queued). A sent batch stays in
    /// the outbox, empty, until the next flush, so a peer written to at every wake-up reuses
    /// its buffer: a fresh buffer of hundreds of kilobytes per wake-up costs page faults.
    private struct Batch {
        let peer: [UInt8]?
        var writer = BusWriter()
        var requestIds: [UInt64] = []
    }
    /// A sent batch keeps its buffer only up to this size (file chunks and histories are larger).
    private let reusedBufferLimit = 1 << 20

    private struct Timer {
        let interval: UInt64
        var due: UInt64
        let action: @Sendable () -> Void
    }

    private let context = Context()
    private let logger: Logger
    /// CurveZMQ for every socket, when the bus runs it.
    private let gate: BusGate?
    /// Where the ZAP socket is in the poller built last.
    private var zapPollIndex: Int?
    private var sockets: [Socket] = []
    private var socketIsRouter: [Bool] = []
    /// Per socket: whether its peer is there (dealers only; a ROUTER's peers come and go).
    private var reachability: [PeerReachability] = []
    /// Per socket: its worker's request figures (dealers only; nil for a ROUTER).
    private var workerFigures: [BusWorkerFigures?] = []
    /// Timeouts of one worker are logged at most this often, with their count.
    private let timeoutReportNanos: UInt64 = 1_000_000_000
    /// Requests awaiting a reply in this loop, set at each wake-up when it changed.
    private let requestsInFlight = Gauge(label: "chat_bus_requests_in_flight")
    /// Stamped at every wake-up, for `isStuck`.
    private let wakeUp = WakeUpStamp()
    private var recordedInFlight = 0
    /// Monitor endpoints named so far, each name used once.
    private var monitorsMade = 0
    /// A PAIR reading each dealer's monitor events, with the socket and endpoint it watches.
    private var monitors: [(socket: Int, events: Socket, endpoint: String)] = []
    /// Requests to a peer that is gone, failed at the next flush rather than queued.
    private var failingFast: [UInt64] = []
    /// How long a dealer's peer may be gone before requests to it fail at once: longer than a
    /// worker's restart (the supervisor's first backoff and the process start), so a restart
    /// costs nobody an answer; a worker down for good answers `Service unavailable` at once.
    let failFastAfterNanos: UInt64
    /// Read and write ends of a non-blocking pipe: a byte written wakes the poll.
    private let wakeDescriptor: Int32
    private let wakeWriteDescriptor: Int32
    private let requestTimeoutNanos: UInt64

    /// Guards the three fields below, the only state shared between threads. An NSLock (a
    /// pthread mutex) rather than `Mutex`: on Linux, Swift 6.3's `Mutex` is a priority-inheritance
    /// futex, much slower when contended (swiftlang/swift#88440), and every event loop of a
    /// gateway calls `execute` for every request.
    private let queueLock = NSLock()
    private var queuedWork: [@Sendable () -> Void] = []
    private var wakePending = false
    private var stopRequested = false

    /// The thread running the loop (`pthread_t`), 0 until `run`: before it, set-up may be done
    /// from any one thread. Only read in debug builds' assertions.
    private let loopThread = Atomic<UInt>(0)

    // Loop-thread state.
    private var nextRequestId: UInt64 = 1
    private var pending: [UInt64: PendingRequest] = [:]
    /// When requests expire, oldest first: every request up to `lastRequestId` expires at
    /// `deadline`. Ids and deadlines only grow (one timeout for the whole loop), so an entry
    /// covers a range of ids, one per millisecond of deadlines; an entry per request would keep
    /// every request of the last timeout, answered or not (a million at 200 k a second and 5 s).
    private var deadlines: [(deadline: UInt64, lastRequestId: UInt64)] = []
    private var deadlineHead = 0
    /// Requests up to this id are past their deadline or were answered before it.
    private var expiredThrough: UInt64 = 0
    private var timers: [Timer] = []
    /// Bus messages refused for a field out of range, logged at most once per
    /// `refusalReportNanos`: a hostile peer can send them as fast as the loop reads.
    private var refusals = ReportThrottle()
    private let refusalReportNanos: UInt64 = 10_000_000_000
    /// What the latest refused message was and why, for the next report.
    private var latestRefusal: (kind: BusMessage.Kind, problem: String)?
    /// Per socket, the batches of this wake-up. A socket has one peer or a few (gateways), so a
    /// short list beats hashing identities for every envelope.
    private var outbox: [[Batch]] = []
    private var outboxIsEmpty = true
    /// A batch past this size goes out at once rather than at the end of the wake-up.
    private let batchLimit = 256 * 1024
    /// The largest message a bound (ROUTER) socket accepts. Most are a batch (`batchLimit`)
    /// and one more envelope; the largest is a gateway's `presenceSync`, about 45 bytes per
    /// signed-in session in one envelope: this admits over a million sessions per gateway.
    static let maxRequestMessageBytes: Int64 = 64 << 20

    /// Called (on the loop thread) when a ROUTER socket cannot route to a peer: it is gone.
    /// Set before `run` or on the loop thread.
    public var onUnroutablePeer: (@Sendable (SocketID, [UInt8]) -> Void)? {
        didSet { assert(isOnLoopThread, "BusLoop.onUnroutablePeer set off the loop thread") }
    }
    /// Called (on the loop thread) with every reply, before its request's callback, and with a
    /// reply whose request already timed out, which has no callback left: a reply may carry
    /// more than the answer (a push) that must not be lost with a late one.
    /// Set before `run` or on the loop thread.
    public var onReply: (@Sendable (BusMessage) -> Void)? {
        didSet { assert(isOnLoopThread, "BusLoop.onReply set off the loop thread") }
    }

    /// `security`: CurveZMQ with the system's key (`bus.curve`), or plain ZeroMQ.
    public init(requestTimeout: Duration = .seconds(5), failFastAfter: Duration = .seconds(2), security: BusSecurity = .none,
                logger: Logger) {
        self.logger = logger
        if case .curve(let keys) = security { gate = BusGate(keys: keys, logger: logger) } else { gate = nil }
        requestTimeoutNanos = Self.nanoseconds(requestTimeout)
        failFastAfterNanos = Self.nanoseconds(failFastAfter)
        var ends: [Int32] = [0, 0]
        precondition(pipe(&ends) == 0, "pipe failed: errno \(errno)")
        for end in ends {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        wakeDescriptor = ends[0]
        wakeWriteDescriptor = ends[1]
    }

    deinit {
        Self.running.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(self)) }
        for socket in sockets { socket.close() }
        for monitor in monitors { monitor.events.close() }
        gate?.zapSocket?.close()
        close(wakeDescriptor)
        close(wakeWriteDescriptor)
    }

    // MARK: Set-up, before `run`

    /// A socket other processes connect to; messages carry the sender's identity.
    public func bindRouter(_ endpoint: String) throws -> SocketID {
        assert(isOnLoopThread, "BusLoop.bindRouter off the loop thread")
        let socket = try context.socket(.router)
        try configure(socket)
        try socket.setRouterMandatory(true)
        // Whatever reaches a bound socket may be hostile: a peer sending a larger message is
        // disconnected by ZeroMQ before it is held in memory.
        try socket.setMaxMessageSize(Self.maxRequestMessageBytes)
        var events: Socket?
        if let gate {
            try gate.secureServer(socket, in: context)
            // Watched for connections dropped in their handshake: a peer without the key.
            events = try watch(socket, for: MonitorEvent.handshakeFailures)
        }
        try socket.bind(endpoint)
        let id = add(socket, isRouter: true)
        if let events { monitors.append((id.index, events, endpoint)) }
        return id
    }

    /// A socket to one peer that bound a ROUTER; `worker` names the peer in metrics and logs
    /// (`auth`, `router`, `storage-1`), `identity` names us to it.
    public func connectDealer(_ endpoint: String, worker: String, identity: String? = nil) throws -> SocketID {
        assert(isOnLoopThread, "BusLoop.connectDealer off the loop thread")
        let socket = try context.socket(.dealer)
        try configure(socket)
        if let identity { try socket.setIdentity(Array(identity.utf8)) }
        // Requests sent while the peer is starting or restarting wait in the queue and go out
        // when it connects; the request timeout bounds the wait. Reconnect fast after a restart.
        try socket.setReconnectInterval(milliseconds: 100)
        try gate?.secureClient(socket)
        // Watched from before the first connect, so the first `connected` is seen too.
        let events = try watch(socket, for: MonitorEvent.connectionEvents | (gate == nil ? 0 : MonitorEvent.handshakeFailures))
        try socket.connect(endpoint)
        let id = add(socket, isRouter: false)
        workerFigures[id.index] = BusWorkerFigures(worker: worker, endpoint: endpoint)
        monitors.append((id.index, events, endpoint))
        return id
    }

    /// The endpoint a socket really bound, with a wildcard port resolved (`tcp://127.0.0.1:*`).
    public func boundEndpoint(_ socket: SocketID) throws -> String {
        assert(isOnLoopThread, "BusLoop.boundEndpoint off the loop thread")
        return try sockets[socket.index].lastEndpoint
    }

    private func configure(_ socket: Socket) throws {
        try socket.setLinger(milliseconds: 0)
        try socket.setSendHighWaterMark(1_000_000)
        try socket.setReceiveHighWaterMark(1_000_000)
    }

    /// A PAIR socket receiving `socket`'s monitor `events`. Its inproc name is never reused,
    /// even after a connect that failed half-way (libzmq lets an inproc name go late).
    private func watch(_ socket: Socket, for events: Int32) throws -> Socket {
        let monitorEndpoint = "inproc://bus-monitor-\(monitorsMade)"
        monitorsMade += 1
        try socket.monitor(monitorEndpoint, events: events)
        let reader = try context.socket(.pair)
        try reader.setLinger(milliseconds: 0)
        try reader.connect(monitorEndpoint)
        return reader
    }

    /// Every socket, then the wake-up descriptor, then the sockets' monitors, then the ZAP
    /// handler's socket (at `zapPollIndex`), if any.
    private func makePoller() -> Poller {
        let zap = gate?.zapSocket.map { [Poller.Item.socket($0)] } ?? []
        zapPollIndex = zap.isEmpty ? nil : sockets.count + 1 + monitors.count
        return Poller(sockets.map { .socket($0) } + [.fileDescriptor(wakeDescriptor)] + monitors.map { .socket($0.events) } + zap)
    }

    private func add(_ socket: Socket, isRouter: Bool) -> SocketID {
        sockets.append(socket)
        socketIsRouter.append(isRouter)
        reachability.append(PeerReachability())
        workerFigures.append(nil)
        outbox.append([])
        return SocketID(index: sockets.count - 1)
    }

    // MARK: Any thread

    /// Runs `work` on the loop thread soon.
    public func execute(_ work: @escaping @Sendable () -> Void) {
        queueLock.lock()
        queuedWork.append(work)
        let mustWake = !wakePending
        wakePending = true
        queueLock.unlock()
        if mustWake { wake() }
    }

    public func stop() {
        queueLock.lock()
        stopRequested = true
        queueLock.unlock()
        wake()
    }

    /// Whether the caller may touch the loop-thread state: it is the loop's thread, or the loop
    /// has not started. For debug builds' assertions (`assert` drops it from release builds).
    private var isOnLoopThread: Bool {
        let owner = loopThread.load(ordering: .relaxed)
        return owner == 0 || pthread_equal(owner, pthread_self()) != 0
    }

    private func wake() {
        var one: UInt8 = 1
        _ = write(wakeWriteDescriptor, &one, 1)
    }

    // MARK: Loop thread only

    /// Sends a one-way message or a reply, in the batch for its peer that leaves at the end
    /// of this wake-up. A peer found gone then is reported to `onUnroutablePeer`.
    public func send(_ envelope: BusEnvelope, on socket: SocketID, to peer: [UInt8]? = nil) {
        assert(isOnLoopThread, "BusLoop.send off the loop thread")
        enqueue(envelope, socket: socket.index, peer: peer, requestId: nil)
    }

    public func reply(to incoming: BusIncoming, with message: BusMessage) {
        let envelope = BusEnvelope(requestId: incoming.envelope.requestId, message: message, flags: .reply)
        send(envelope, on: incoming.socket, to: incoming.peer)
    }

    private func enqueue(_ envelope: BusEnvelope, socket: Int, peer: [UInt8]?, requestId: UInt64?) {
        assert(isOnLoopThread, "BusLoop.enqueue off the loop thread")
        var index = outbox[socket].firstIndex { $0.peer == peer }
        if index == nil {
            outbox[socket].append(Batch(peer: peer))
            index = outbox[socket].count - 1
        }
        outboxIsEmpty = false
        envelope.append(toBatch: &outbox[socket][index!].writer)
        if let requestId { outbox[socket][index!].requestIds.append(requestId) }
        if outbox[socket][index!].writer.count >= batchLimit {
            transmit(socket: socket, index: index!)
        }
    }

    /// Sends every waiting batch. Runs at the end of each wake-up, before the loop sleeps.
    private func flushOutbox() {
        assert(isOnLoopThread, "BusLoop.flushOutbox off the loop thread")
        guard !outboxIsEmpty else { return }
        outboxIsEmpty = true
        if !failingFast.isEmpty {
            // Their callbacks may request again (and fail fast again): take the list first.
            let failing = failingFast
            failingFast.removeAll()
            for requestId in failing { pending.removeValue(forKey: requestId)?.onReply(.failure(.unreachable)) }
        }
        for socket in outbox.indices {
            var index = 0
            while index < outbox[socket].count {
                if outbox[socket][index].writer.isEmpty {
                    // Nothing for this peer since the last flush: a quiet (or departed) peer
                    // keeps no buffer, so the outbox holds only the peers in use.
                    outbox[socket].remove(at: index)
                } else {
                    transmit(socket: socket, index: index)
                    index += 1
                }
            }
        }
    }

    /// Sends the socket's `index`th batch and leaves it empty, its buffer kept for reuse.
    private func transmit(socket: Int, index: Int) {
        // Taken out of the outbox first: a failure callback below may queue into it again.
        var batch = outbox[socket][index]
        outbox[socket][index].writer = BusWriter()
        outbox[socket][index].requestIds = []
        var sent = false
        do {
            sent = try batch.writer.withBytes { try sockets[socket].send(identity: batch.peer, payload: $0, blocking: false) }
        } catch let error as ZeroMQError where error.isUnroutable {
            if let peer = batch.peer { onUnroutablePeer?(SocketID(index: socket), peer) }
        } catch {
            logger.error("bus send failed", metadata: ["bus.error": "\(error)"])
        }
        if !sent {
            logger.warning("bus batch not sent", metadata: ["bus.requests": "\(batch.requestIds.count)", "bus.bytes": "\(batch.writer.count)"])
            for requestId in batch.requestIds {
                pending.removeValue(forKey: requestId)?.onReply(.failure(.unreachable))
            }
        }
        guard outbox[socket][index].writer.isEmpty, batch.writer.capacity <= reusedBufferLimit else { return }
        batch.writer.removeAll()
        batch.requestIds.removeAll(keepingCapacity: true)
        outbox[socket][index] = batch
    }

    /// Whether `socket`'s peer was connected and its connection has been lost since.
    public func isPeerLost(on socket: SocketID) -> Bool {
        assert(isOnLoopThread, "BusLoop.isPeerLost off the loop thread")
        return reachability[socket.index].isLost
    }

    /// The peer of `socket`, gone a while, is expected back shortly (`PeerReachability.expectedBack`).
    public func expectPeerBack(on socket: SocketID) {
        assert(isOnLoopThread, "BusLoop.expectPeerBack off the loop thread")
        reachability[socket.index].expectedBack(now: Self.now())
    }

    /// Sends a request; `onReply` runs on the loop thread exactly once, with the reply or an error.
    /// It need not be Sendable: it is made on the loop thread and never leaves it.
    public func request(_ message: BusMessage, on socket: SocketID, to peer: [UInt8]? = nil,
                        onReply: @escaping (Result<BusMessage, BusRequestError>) -> Void) {
        assert(isOnLoopThread, "BusLoop.request off the loop thread")
        let requestId = nextRequestId
        nextRequestId &+= 1
        // Read once: the request's start (for its latency) and its deadline.
        let now = Self.now()
        pending[requestId] = PendingRequest(onReply: onReply, socket: socket.index, sentAt: now)
        if reachability[socket.index].isLost, reachability[socket.index].failsFast(now: now, grace: failFastAfterNanos) {
            failingFast.append(requestId)
            outboxIsEmpty = false
            return
        }
        noteDeadline(of: requestId, now: now)
        enqueue(BusEnvelope(requestId: requestId, message: message), socket: socket.index, peer: peer, requestId: requestId)
    }

    /// Rounded up to the millisecond, so a request times out a millisecond or two late (the
    /// poll's timeout is whole milliseconds too), never early, and the requests of one
    /// millisecond share an entry.
    private func noteDeadline(of requestId: UInt64, now: UInt64) {
        let deadline = (now + requestTimeoutNanos + 999_999) / 1_000_000 * 1_000_000
        // The last entry may already have expired (a timed-out request's callback sends anew).
        if deadlineHead < deadlines.count, deadlines[deadlines.count - 1].deadline == deadline {
            deadlines[deadlines.count - 1].lastRequestId = requestId
        } else {
            deadlines.append((deadline, requestId))
        }
    }

    /// Runs `action` on the loop thread every `interval`, first after one interval. Called
    /// before `run` or on the loop thread.
    public func every(_ interval: Duration, _ action: @escaping @Sendable () -> Void) {
        assert(isOnLoopThread, "BusLoop.every off the loop thread")
        let nanos = Self.nanoseconds(interval)
        timers.append(Timer(interval: nanos, due: Self.now() + nanos, action: action))
    }

    /// Blocks the calling thread, which becomes the loop thread, until `stop()`.
    /// `handler` gets each request or one-way message; `afterBatch` runs once everything due at
    /// one wake-up was handled: messages, replies, timeouts (where storage commits a group and
    /// the gateway hands results to its event loops).
    public func run(handler: (BusIncoming) -> Void, afterBatch: () -> Void = {}) {
        let previous = loopThread.exchange(pthread_self(), ordering: .relaxed)
        assert(previous == 0 || pthread_equal(previous, pthread_self()) != 0, "BusLoop.run on a second thread")
        var poller = makePoller()
        wakeUp.stamp.store(Self.now(), ordering: .relaxed)
        Self.running.withLock { $0[ObjectIdentifier(self)] = wakeUp }
        var wakeIndex = sockets.count
        while true {
            // A socket connected while running (a gateway meeting a storage worker from a newer
            // partition map) is watched from the next poll; the layout shifts, so rebuilt whole.
            if sockets.count != wakeIndex {
                poller = makePoller()
                wakeIndex = sockets.count
            }
            let ready: [Int]
            do {
                ready = try poller.poll(timeoutMilliseconds: pollTimeoutMilliseconds())
            } catch {
                logger.critical("zmq_poll failed", metadata: ["bus.error": "\(error)"])
                return
            }
            if ready.contains(wakeIndex) {
                var drain = [UInt8](repeating: 0, count: 64)
                while read(wakeDescriptor, &drain, drain.count) > 0 {}
            }
            queueLock.lock()
            let work = queuedWork
            queuedWork.removeAll(keepingCapacity: true)
            wakePending = false
            let stopping = stopRequested
            queueLock.unlock()
            // Work queued before a stop still runs: it may hold answers owed to peers.
            for item in work { item() }
            if stopping {
                flushOutbox()
                // Stopped as asked: no longer watched (what follows, a drain, may take a while).
                Self.running.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(self)) }
                return
            }

            for index in ready where index != wakeIndex {
                if index == zapPollIndex {
                    gate?.answerAdmissions()
                } else if index > wakeIndex {
                    readMonitor(monitors[index - wakeIndex - 1])
                } else {
                    receiveAvailable(on: SocketID(index: index), handler: handler)
                }
            }
            expireRequests()
            runDueTimers()
            reportRefusals()
            let now = Self.now()
            gate?.report(now: now, every: refusalReportNanos)
            wakeUp.stamp.store(now, ordering: .relaxed)
            reportTimeouts(now: now)
            if pending.count != recordedInFlight {
                recordedInFlight = pending.count
                requestsInFlight.record(recordedInFlight)
            }
            afterBatch()
            flushOutbox()
            // Sending can fail requests, whose callbacks may queue more: send that now too
            // rather than after the next wake-up.
            if !outboxIsEmpty {
                afterBatch()
                flushOutbox()
            }
        }
    }

    /// After `run` has returned: runs the work queued meanwhile (until none is left), sends what
    /// it produced, and closes the sockets, giving them up to `linger` to deliver it. The calling
    /// thread (usually the one that ran the loop) becomes the loop thread. The loop cannot run again.
    public func drain(linger: Duration = .seconds(1)) {
        loopThread.store(pthread_self(), ordering: .relaxed)
        while true {
            queueLock.lock()
            let work = queuedWork
            queuedWork.removeAll()
            queueLock.unlock()
            if work.isEmpty { break }
            for item in work { item() }
        }
        flushOutbox()
        let milliseconds = Int32(Self.nanoseconds(linger) / 1_000_000)
        for socket in sockets {
            try? socket.setLinger(milliseconds: milliseconds)
            socket.close()
        }
        for monitor in monitors { monitor.events.close() }
        gate?.zapSocket?.close()
        context.terminate()
    }

    /// A dealer's peer came or went: logged when it goes and when it comes back.
    private func readMonitor(_ monitor: (socket: Int, events: Socket, endpoint: String)) {
        while let frames = try? monitor.events.receive(blocking: false), let event = MonitorEvent(frames: frames) {
            let change: PeerReachability.Change?
            switch event.kind {
            case .connected: change = reachability[monitor.socket].connected()
            case .disconnected: change = reachability[monitor.socket].disconnected(now: Self.now())
            case .handshakeFailed(let failure):
                gate?.noteHandshakeFailure(failure, endpoint: monitor.endpoint, bound: socketIsRouter[monitor.socket])
                change = nil
            case .other: change = nil
            }
            switch change {
            case .unreachable?:
                logger.warning("bus: a worker is unreachable; requests to it fail at once after a moment", metadata: [
                    "bus.endpoint": "\(monitor.endpoint)", "bus.fail_fast_after_ms": "\(failFastAfterNanos / 1_000_000)",
                ])
            case .reachableAgain?:
                logger.notice("bus: a worker is reachable again", metadata: ["bus.endpoint": "\(monitor.endpoint)"])
            case nil:
                break
            }
        }
    }

    private func receiveAvailable(on socket: SocketID, handler: (BusIncoming) -> Void) {
        assert(isOnLoopThread, "BusLoop.receiveAvailable off the loop thread")
        let isRouter = socketIsRouter[socket.index]
        // Bounded, so one busy socket cannot starve the others or the queued work.
        for _ in 0..<512 {
            let frames: [[UInt8]]
            do {
                // A peer may send any number of frames; past two the framing check refuses it.
                guard let received = try sockets[socket.index].receive(blocking: false, maxFrames: 2) else { return }
                frames = received
            } catch {
                logger.error("bus receive failed", metadata: ["bus.error": "\(error)"])
                return
            }
            guard let payload = frames.last, frames.count == (isRouter ? 2 : 1) else {
                logger.warning("dropped a message with unexpected framing", metadata: ["bus.frames": "\(frames.count)"])
                continue
            }
            let peer = isRouter ? frames[0] : nil
            // One reading for the replies of a batch: they arrived together.
            let receivedAt = Self.now()
            let framed = BusEnvelope.decode(batch: payload, onUndecodable: { error in
                logger.warning("dropped an undecodable message", metadata: ["bus.error": "\(error)"])
            }) { envelope in
                if envelope.isReply {
                    onReply?(envelope.message)
                    if let request = pending.removeValue(forKey: envelope.requestId) {
                        workerFigures[request.socket]?.replied(afterNanoseconds: receivedAt - min(receivedAt, request.sentAt))
                        request.onReply(.success(envelope.message))
                    }
                } else if let problem = envelope.message.fieldProblem {
                    refuse(BusIncoming(socket: socket, peer: peer, envelope: envelope), problem)
                } else {
                    handler(BusIncoming(socket: socket, peer: peer, envelope: envelope))
                }
            }
            if !framed {
                logger.warning("dropped a batch whose lengths do not add up", metadata: ["bus.bytes": "\(payload.count)"])
            }
        }
    }

    /// A request with a field out of range never reaches the worker: logged (`reportRefusals`),
    /// and answered with a failure when an answer is awaited (one-way messages carry request
    /// id 0).
    private func refuse(_ incoming: BusIncoming, _ problem: String) {
        refusals.unreported += 1
        latestRefusal = (incoming.message.kind, problem)
        reportRefusals()
        if incoming.envelope.requestId != 0 { reply(to: incoming, with: .failure(problem)) }
    }

    /// The first refusal at once, then at most once per `refusalReportNanos` the number refused
    /// since with the latest one's kind and problem. Also called at every wake-up (at least
    /// once a second), so the end of a flood is reported within the interval, not whenever the
    /// next refusal comes.
    private func reportRefusals() {
        guard let refused = refusals.report(now: Self.now(), every: refusalReportNanos), let latest = latestRefusal else { return }
        logger.warning("refused a bus message with a field out of range", metadata: [
            "bus.kind": "\(latest.kind)", "bus.problem": "\(latest.problem)", "bus.refused": "\(refused)",
        ])
    }

    /// Each worker's timeouts, at most once per `timeoutReportNanos`: the first at once, then
    /// how many since. Called at every wake-up (at least once a second), like `reportRefusals`.
    private func reportTimeouts(now: UInt64) {
        for index in workerFigures.indices {
            guard let timedOut = workerFigures[index]?.unreportedTimeouts.report(now: now, every: timeoutReportNanos),
                  let figures = workerFigures[index] else { continue }
            logger.warning("bus: requests to a worker timed out", metadata: [
                "bus.worker": "\(figures.worker)", "bus.endpoint": "\(figures.endpoint)", "bus.requests": "\(timedOut)",
            ])
        }
    }

    private func expireRequests() {
        assert(isOnLoopThread, "BusLoop.expireRequests off the loop thread")
        let now = Self.now()
        while deadlineHead < deadlines.count, deadlines[deadlineHead].deadline <= now {
            let lastRequestId = deadlines[deadlineHead].lastRequestId
            deadlineHead += 1
            while expiredThrough < lastRequestId {
                expiredThrough += 1
                if let request = pending.removeValue(forKey: expiredThrough) {
                    workerFigures[request.socket]?.timedOut()
                    request.onReply(.failure(.timedOut))
                }
            }
        }
        if deadlineHead > 4096 && deadlineHead * 2 > deadlines.count {
            deadlines.removeFirst(deadlineHead)
            deadlineHead = 0
        }
    }

    private func runDueTimers() {
        assert(isOnLoopThread, "BusLoop.runDueTimers off the loop thread")
        let now = Self.now()
        for index in timers.indices where timers[index].due <= now {
            timers[index].due = now + timers[index].interval
            timers[index].action()
        }
    }

    private func pollTimeoutMilliseconds() -> Int {
        let now = Self.now()
        var next = UInt64.max
        if deadlineHead < deadlines.count { next = deadlines[deadlineHead].deadline }
        for timer in timers { next = min(next, timer.due) }
        if next == .max { return 1000 }
        if next <= now { return 0 }
        return Int(min((next - now) / 1_000_000 + 1, 1000))
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// When a loop last woke up (`now()`). A loop wakes at least once a second (its poll
    /// waits no longer), so an old stamp means one stuck: in a handler that never returns, a
    /// deadlock, a stopped process.
    final class WakeUpStamp: Sendable {
        let stamp = Atomic<UInt64>(0)
    }

    /// The loops of this process that run, each with its stamp. A loop leaves when stopped as
    /// asked; one that ended on a failed poll stays, its stamp ageing: it is stuck for good.
    private static let running = Mutex<[ObjectIdentifier: WakeUpStamp]>([:])

    /// True while this loop runs and has not woken up for `limit`.
    public func hasStalled(for limit: Duration) -> Bool {
        let last = wakeUp.stamp.load(ordering: .relaxed)
        let now = Self.now()
        return Self.running.withLock { $0[ObjectIdentifier(self)] != nil } && now - min(now, last) > Self.nanoseconds(limit)
    }

    /// True when some loop of this process has not woken up for `limit`. The telemetry
    /// reporter goes quiet then, so that the supervisor's health check sees a stuck process,
    /// not only one stopped or gone.
    public static func isStuck(for limit: Duration) -> Bool {
        let now = now()
        return running.withLock { loops in
            loops.values.contains { now - min(now, $0.stamp.load(ordering: .relaxed)) > nanoseconds(limit) }
        }
    }

    /// A (non-negative) duration in whole nanoseconds, the unit of `now()`.
    static func nanoseconds(_ duration: Duration) -> UInt64 {
        UInt64(duration.components.seconds) * 1_000_000_000 + UInt64(duration.components.attoseconds / 1_000_000_000)
    }
}
