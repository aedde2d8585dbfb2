import ChatBus
import ChatTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// The bus loop over real ZeroMQ sockets on loopback TCP.
@Suite struct BusLoopTests {
    private let logger = Logger(label: "test")

    /// A worker that echoes `userExists` as `existence(true)` and ignores `signIn`.
    private func startWorker(logger: Logger? = nil) throws -> (BusLoop, String, Thread) {
        let worker = BusLoop(logger: logger ?? self.logger)
        let socket = try worker.bindRouter("tcp://127.0.0.1:*")
        _ = socket
        let endpoint = try worker.boundEndpoint(socket)
        let thread = Thread {
            worker.run { incoming in
                if case .userExists = incoming.message { worker.reply(to: incoming, with: .existence(true)) }
            }
        }
        thread.start()
        return (worker, endpoint, thread)
    }

    /// Waits until `client`'s dealer reaches a worker that answers `userExists`: a probe request
    /// is answered. Requests sent before that are not lost (the dealer queues them while it
    /// connects), but a test that times its requests starts them connected.
    private func awaitConnection(_ client: BusLoop, _ socket: BusLoop.SocketID) throws {
        try waitUntil("a probe request to be answered (the dealer connected)", timeout: .seconds(10)) {
            let settled = DispatchSemaphore(value: 0)
            let probe = Mutex<Result<BusMessage, BusRequestError>?>(nil)
            client.execute {
                client.request(.userExists(uid: "000000"), on: socket) { result in
                    probe.withLock { $0 = result }
                    settled.signal()
                }
            }
            // Answered or timed out by the client's own request timeout.
            try settled.wait(for: "the probe's answer or timeout", timeout: .seconds(10))
            return probe.withLock { $0 } == .success(.existence(true))
        }
    }

    /// One request from a new client; `connected`: only once the client reached the worker.
    /// Returns the result and how long it took from sending to the callback.
    private func request(_ message: BusMessage, timeout: Duration, endpoint: String,
                         connected: Bool = true) throws -> (result: Result<BusMessage, BusRequestError>, took: Duration) {
        let client = BusLoop(requestTimeout: timeout, logger: logger)
        let socket = try client.connectDealer(endpoint, worker: "worker")
        defer { client.stop() }
        let done = DispatchSemaphore(value: 0)
        let answer = Mutex<(result: Result<BusMessage, BusRequestError>, took: Duration)?>(nil)
        Thread { client.run { _ in } }.start()
        if connected { try awaitConnection(client, socket) }
        let sent = ContinuousClock.now
        client.execute {
            client.request(message, on: socket) { result in
                let took = ContinuousClock.now - sent
                answer.withLock { $0 = (result, took) }
                done.signal()
            }
        }
        try done.wait(for: "the request's answer or timeout", timeout: .seconds(30))
        return answer.withLock { $0 }!
    }

    @Test func requestGetsItsReply() throws {
        let (worker, endpoint, _) = try startWorker()
        defer { worker.stop() }
        #expect(try request(.userExists(uid: "111111"), timeout: .seconds(5), endpoint: endpoint).result == .success(.existence(true)))
    }

    /// A gateway meets a storage worker it had no socket for (a newer partition map names it)
    /// while its loop runs: the new socket's answers must be read like the first ones'.
    @Test func aDealerConnectedWhileRunningGetsItsReplies() throws {
        let (worker, endpoint, _) = try startWorker()
        defer { worker.stop() }
        let client = BusLoop(requestTimeout: .seconds(5), logger: logger)
        Thread { client.run { _ in } }.start()
        defer { client.stop() }
        let done = DispatchSemaphore(value: 0)
        let answer = Mutex<Result<BusMessage, BusRequestError>?>(nil)
        client.execute {
            do {
                let socket = try client.connectDealer(endpoint, worker: "storage-2")
                client.request(.userExists(uid: "111111"), on: socket) { result in
                    answer.withLock { $0 = result }
                    done.signal()
                }
            } catch {
                Issue.record("cannot connect: \(error)")
                done.signal()
            }
        }
        try done.wait(for: "the answer on the new socket", timeout: .seconds(30))
        #expect(answer.withLock { $0 } == .success(.existence(true)))
    }

    @Test func unansweredRequestTimesOut() throws {
        let (worker, endpoint, _) = try startWorker()
        defer { worker.stop() }
        let (result, took) = try request(.signIn(uid: "111111", password: "x"), timeout: .milliseconds(300), endpoint: endpoint)
        #expect(result == .failure(.timedOut))
        #expect(took < .seconds(5))
    }

    @Test func requestToNobodyTimesOut() throws {
        // Nothing listens here: the request waits for the peer only as long as the timeout.
        #expect(try request(.userExists(uid: "000001"), timeout: .milliseconds(300), endpoint: "tcp://127.0.0.1:9", connected: false).result == .failure(.timedOut))
    }

    @Test func requestSentBeforeThePeerStartsIsServedWhenItDoes() throws {
        // Below Linux's ephemeral range (32768 and up): a dealer redialling a port in that range
        // can be handed it as its own source port and connect to itself, and the bind then fails.
        let port = Int.random(in: 20_000..<32_000)
        let client = BusLoop(requestTimeout: .seconds(5), logger: logger)
        let socket = try client.connectDealer("tcp://127.0.0.1:\(port)", worker: "worker")
        let done = DispatchSemaphore(value: 0)
        let answer = Mutex<Result<BusMessage, BusRequestError>?>(nil)
        Thread { client.run { _ in } }.start()
        defer { client.stop() }
        let queued = DispatchSemaphore(value: 0)
        client.execute {
            client.request(.userExists(uid: "000001"), on: socket) { result in
                answer.withLock { $0 = result }
                done.signal()
            }
            queued.signal()
        }
        try queued.wait(for: "the client's loop to take the request", timeout: .seconds(10))
        // Work queued now runs on a later wake-up of the loop, after the one that took the
        // request has flushed it to the socket: the request has been sent.
        let flushed = DispatchSemaphore(value: 0)
        client.execute { flushed.signal() }
        try flushed.wait(for: "the client's loop to send the request", timeout: .seconds(10))
        // Not synchronisation but the case under test: the peer starts late, after the dealer's
        // first dial was refused and it redials (every 100 ms).
        Thread.sleep(forTimeInterval: 0.3)
        let worker = BusLoop(logger: logger)
        _ = try worker.bindRouter("tcp://127.0.0.1:\(port)")
        Thread {
            worker.run { incoming in worker.reply(to: incoming, with: .existence(false)) }
        }.start()
        defer { worker.stop() }
        try done.wait(for: "the answer from the late peer", timeout: .seconds(10))
        #expect(answer.withLock { $0 } == .success(.existence(false)))
    }

    /// A hostile peer can send messages with fields out of range as fast as the loop reads:
    /// each is answered with a failure, but the log hears of the first at once and of the rest
    /// at most every 10 s, not once each.
    @Test func aFloodOfRefusedMessagesIsAnsweredEachButLoggedOnce() throws {
        let log = CapturedLog()
        let (worker, endpoint, _) = try startWorker(logger: log.logger)
        defer { worker.stop() }
        let client = BusLoop(logger: logger)
        let socket = try client.connectDealer(endpoint, worker: "worker")
        defer { client.stop() }
        Thread { client.run { _ in } }.start()
        try awaitConnection(client, socket)
        let count = 100
        let answers = Mutex<[Result<BusMessage, BusRequestError>]>([])
        let done = DispatchSemaphore(value: 0)
        client.execute {
            for _ in 0..<count {
                client.request(.reserveStorage(uid: "1", bytes: 1), on: socket) { result in
                    let answered = answers.withLock { $0.append(result); return $0.count }
                    if answered == count { done.signal() }
                }
            }
        }
        try done.wait(for: "every refused request's answer", timeout: .seconds(30))
        #expect(answers.withLock { $0 }.allSatisfy { if case .success(.failure) = $0 { true } else { false } })
        let refusals = log.logged.filter { $0.message == "refused a bus message with a field out of range" }
        #expect(refusals.count == 1)
        #expect(refusals.first?.metadata["bus.refused"] == "1")
    }

    /// A worker that stops answering costs a log line per second naming it, with how many of
    /// its requests timed out, not a line per request.
    @Test func timeoutsAreLoggedNamingTheWorkerWithTheirCount() throws {
        let (worker, endpoint, _) = try startWorker()
        defer { worker.stop() }
        let log = CapturedLog()
        let client = BusLoop(requestTimeout: .milliseconds(300), logger: log.logger)
        let socket = try client.connectDealer(endpoint, worker: "storage-1")
        defer { client.stop() }
        Thread { client.run { _ in } }.start()
        try awaitConnection(client, socket)
        let count = 20
        let timedOut = Mutex(0)
        let done = DispatchSemaphore(value: 0)
        client.execute {
            // The worker ignores sign-ins.
            for _ in 0..<count {
                client.request(.signIn(uid: "111111", password: "x"), on: socket) { result in
                    let failed = timedOut.withLock { $0 += 1; return $0 }
                    #expect(result == .failure(.timedOut))
                    if failed == count { done.signal() }
                }
            }
        }
        try done.wait(for: "every request to time out", timeout: .seconds(30))
        // The count of a second report (if the timeouts spanned two wake-ups) waits out the second.
        try waitUntil("every timeout logged", timeout: .seconds(5)) {
            log.logged.filter { $0.message == "bus: requests to a worker timed out" }
                .compactMap { Int($0.metadata["bus.requests"]?.description ?? "") }.reduce(0, +) == count
        }
        let reports = log.logged.filter { $0.message == "bus: requests to a worker timed out" }
        #expect((1...2).contains(reports.count))
        #expect(reports.allSatisfy { $0.metadata["bus.worker"] == "storage-1" && $0.metadata["bus.endpoint"] == "\(endpoint)" })
    }

    @Test func aReplyAfterTheTimeoutStillReachesOnReply() throws {
        // A worker that answers late, once the client has seen its request time out, with a
        // reply carrying a push.
        let worker = BusLoop(logger: logger)
        let endpoint = try worker.boundEndpoint(worker.bindRouter("tcp://127.0.0.1:*"))
        let late = BusMessage.deliveredPush(connection: 7, bytes: Array("1 to 2 text\n".utf8))
        let clientGaveUp = DispatchSemaphore(value: 0)
        Thread {
            worker.run { incoming in
                Thread {
                    // Bounded so the worker never hangs; if the client never gives up, the
                    // expectations below fail.
                    _ = clientGaveUp.wait(timeout: .now() + 10)
                    worker.execute { worker.reply(to: incoming, with: late) }
                }.start()
            }
        }.start()
        defer { worker.stop() }

        let client = BusLoop(requestTimeout: .milliseconds(100), logger: logger)
        let socket = try client.connectDealer(endpoint, worker: "worker")
        let answered = DispatchSemaphore(value: 0), lateArrived = DispatchSemaphore(value: 0)
        let answer = Mutex<Result<BusMessage, BusRequestError>?>(nil)
        let lateReply = Mutex<BusMessage?>(nil)
        client.onReply = { message in
            lateReply.withLock { $0 = message }
            lateArrived.signal()
        }
        Thread { client.run { _ in } }.start()
        defer { client.stop() }
        // Sent at once: if the dealer is still connecting, it queues the request, which then
        // times out all the same and reaches the worker late.
        client.execute {
            client.request(.storeAndDeliver(pair: PairKey("000001", "000002"), record: [10], to: "000002", gatewayId: "gw"), on: socket) { result in
                answer.withLock { $0 = result }
                answered.signal()
                clientGaveUp.signal()
            }
        }
        try answered.wait(for: "the request to time out", timeout: .seconds(5))
        #expect(answer.withLock { $0 } == .failure(.timedOut))
        try lateArrived.wait(for: "the late reply at onReply", timeout: .seconds(5))
        #expect(lateReply.withLock { $0 } == late)
    }

    @Test func ofManyRequestsTheAnsweredGetTheirAnswerAndTheRestTimeOutNeverEarly() throws {
        let (worker, endpoint, _) = try startWorker()
        defer { worker.stop() }
        // Long enough that an answered request is never late on a busy machine.
        let timeoutNanos: UInt64 = 1_000_000_000
        let client = BusLoop(requestTimeout: .nanoseconds(Int64(timeoutNanos)), logger: logger)
        let socket = try client.connectDealer(endpoint, worker: "worker")
        Thread { client.run { _ in } }.start()
        defer { client.stop() }
        // Connected first, so connecting does not eat into the answered requests' 1 s.
        try awaitConnection(client, socket)

        // Waves sent 20 ms apart (so their deadlines usually fall in different milliseconds),
        // half answered (`userExists`), half ignored (`signIn`). The first request to time out
        // sends one more from its callback, while the loop is expiring requests; it must time
        // out too, once.
        let waves = 3, perWave = 500, followUp = -1
        // Touched on the client's loop thread, but for the read at the end.
        struct Tally {
            var outcomes: [Int: [Result<BusMessage, BusRequestError>]] = [:]
            var timedOutEarly = 0, firstAnswers = 0
        }
        let tally = Mutex(Tally())
        let allAnswered = DispatchSemaphore(value: 0)
        @Sendable func send(_ message: BusMessage, key: Int) {
            let sent = DispatchTime.now().uptimeNanoseconds
            client.request(message, on: socket) { result in
                let sendFollowUp = tally.withLock { tally in
                    if result == .failure(.timedOut), DispatchTime.now().uptimeNanoseconds - sent < timeoutNanos { tally.timedOutEarly += 1 }
                    guard result == .failure(.timedOut), tally.outcomes[followUp] == nil, key != followUp else { return false }
                    tally.outcomes[followUp] = []
                    return true
                }
                // Outside the lock: the loop may call back at once (a send that fails).
                if sendFollowUp { send(.signIn(uid: "111111", password: "x"), key: followUp) }
                let allFirstAnswers = tally.withLock { tally in
                    tally.outcomes[key, default: []].append(result)
                    guard tally.outcomes[key]!.count == 1 else { return false }
                    tally.firstAnswers += 1
                    return tally.firstAnswers == waves * perWave + 1
                }
                if allFirstAnswers { allAnswered.signal() }
            }
        }
        for wave in 0..<waves {
            client.execute {
                for index in 0..<perWave {
                    let key = wave * perWave + index
                    send(key.isMultiple(of: 2) ? .userExists(uid: "111111") : .signIn(uid: "111111", password: "x"), key: key)
                }
            }
            // Pacing of the case under test, not synchronisation.
            Thread.sleep(forTimeInterval: 0.02)
        }
        try allAnswered.wait(for: "a first answer or timeout for every request", timeout: .seconds(15))
        // A bounded wait on purpose: no request may get a second answer, so wait past every
        // deadline again (1 s) before reading the outcomes; a second answer would have come by now.
        Thread.sleep(forTimeInterval: 1.5)
        let read = DispatchSemaphore(value: 0)
        let final = Mutex<Tally>(Tally())
        client.execute {
            let outcomes = tally.withLock { $0 }
            final.withLock { $0 = outcomes }
            read.signal()
        }
        try read.wait(for: "the client's loop to hand over the outcomes", timeout: .seconds(5))
        let (outcomes, timedOutEarly) = final.withLock { ($0.outcomes, $0.timedOutEarly) }
        #expect(outcomes.count == waves * perWave + 1)
        for (key, results) in outcomes {
            #expect(results == [key != followUp && key.isMultiple(of: 2) ? .success(.existence(true)) : .failure(.timedOut)])
        }
        #expect(timedOutEarly == 0)
    }

    @Test func drainSendsWhatWasQueuedAfterTheLoopStopped() throws {
        let worker = BusLoop(logger: logger)
        let endpoint = try worker.boundEndpoint(worker.bindRouter("tcp://127.0.0.1:*"))
        let received = DispatchSemaphore(value: 0)
        Thread {
            worker.run { incoming in
                if case .notify(let to, _) = incoming.message, to == "000009" { received.signal() }
                if case .userExists = incoming.message { worker.reply(to: incoming, with: .existence(true)) }
            }
        }.start()
        defer { worker.stop() }

        let client = BusLoop(logger: logger)
        let socket = try client.connectDealer(endpoint, worker: "worker")
        let stopped = DispatchSemaphore(value: 0)
        Thread {
            client.run { _ in }
            stopped.signal()
        }.start()
        try awaitConnection(client, socket)
        client.stop()
        try stopped.wait(for: "the client's loop to return after stop()", timeout: .seconds(10))
        // Queued once the loop is gone, as a storage commit finishing during shutdown is.
        client.execute { client.send(BusEnvelope(requestId: 0, message: .notify(to: "000009", bytes: [1])), on: socket) }
        client.drain()
        try received.wait(for: "the worker to receive what drain() sent", timeout: .seconds(5))
    }

    #if DEBUG
    /// Debug builds check that loop-thread-only methods run on the loop's thread.
    @Test func sendingFromAnotherThreadWhileTheLoopRunsTraps() async {
        await #expect(processExitsWith: .failure) {
            let loop = BusLoop(logger: Logger(label: "test"))
            let socket = try loop.connectDealer("tcp://127.0.0.1:9", worker: "worker")
            let running = DispatchSemaphore(value: 0)
            loop.execute { running.signal() }
            Thread { loop.run { _ in } }.start()
            running.wait()
            loop.send(BusEnvelope(requestId: 0, message: .existence(true)), on: socket)
        }
    }
    #endif
}

extension BusLoopTests {
    /// A loop held up in its own work past the limit has stalled, and no longer once it wakes
    /// again; an idle one wakes every second and has not; a stopped one is not watched.
    @Test func aLoopHeldUpInItsWorkHasStalledUntilItWakesAgain() throws {
        let loop = BusLoop(logger: logger)
        _ = try loop.bindRouter("tcp://127.0.0.1:*")
        let stopped = DispatchSemaphore(value: 0)
        Thread {
            loop.run { _ in }
            stopped.signal()
        }.start()
        try waitUntil("the loop to run", timeout: .seconds(10)) { !loop.hasStalled(for: .seconds(60)) && !loop.hasStalled(for: .seconds(2)) }
        Thread.sleep(forTimeInterval: 1.5)
        #expect(!loop.hasStalled(for: .milliseconds(1200)), "an idle loop wakes at least once a second")

        let release = DispatchSemaphore(value: 0)
        loop.execute { release.wait() }
        Thread.sleep(forTimeInterval: 0.4)
        #expect(loop.hasStalled(for: .milliseconds(200)))
        #expect(BusLoop.isStuck(for: .milliseconds(200)))
        release.signal()
        try waitUntil("the loop to wake again", timeout: .seconds(10)) { !loop.hasStalled(for: .milliseconds(200)) }

        loop.stop()
        stopped.wait()
        Thread.sleep(forTimeInterval: 0.3)
        #expect(!loop.hasStalled(for: .milliseconds(200)), "a loop stopped as asked is not watched")
    }
}
