import ChatBus
import Foundation
import Logging
import Testing

/// The bus loop over real ZeroMQ sockets on loopback TCP.
@Suite struct BusLoopTests {
    private let logger = Logger(label: "test")

    /// A worker that echoes `userExists` as `existence(true)` and ignores `signIn`.
    private func startWorker() throws -> (BusLoop, String, Thread) {
        let worker = BusLoop(logger: logger)
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

    private func request(_ message: BusMessage, timeout: Duration, endpoint: String) throws -> Result<BusMessage, BusRequestError> {
        let client = BusLoop(requestTimeout: timeout, logger: logger)
        let socket = try client.connectDealer(endpoint)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var answer: Result<BusMessage, BusRequestError>?
        let thread = Thread { client.run { _ in } }
        thread.start()
        // Let the connection complete: with ZMQ_IMMEDIATE a request before that is refused.
        Thread.sleep(forTimeInterval: 0.3)
        client.execute {
            client.request(message, on: socket) { result in
                answer = result
                done.signal()
            }
        }
        done.wait()
        client.stop()
        return answer!
    }

    @Test func requestGetsItsReply() throws {
        let (worker, endpoint, _) = try startWorker()
        defer { worker.stop() }
        #expect(try request(.userExists(uid: "111111"), timeout: .seconds(5), endpoint: endpoint) == .success(.existence(true)))
    }

    @Test func unansweredRequestTimesOut() throws {
        let (worker, endpoint, _) = try startWorker()
        defer { worker.stop() }
        let started = Date()
        #expect(try request(.signIn(uid: "111111", password: "x"), timeout: .milliseconds(300), endpoint: endpoint) == .failure(.timedOut))
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func requestToNobodyTimesOut() throws {
        // Nothing listens here: the request waits for the peer only as long as the timeout.
        #expect(try request(.userExists(uid: "1"), timeout: .milliseconds(300), endpoint: "tcp://127.0.0.1:9") == .failure(.timedOut))
    }

    @Test func requestSentBeforeThePeerStartsIsServedWhenItDoes() throws {
        // Below Linux's ephemeral range (32768 and up): a dealer redialling a port in that range
        // can be handed it as its own source port and connect to itself, and the bind then fails.
        let port = Int.random(in: 20_000..<32_000)
        let client = BusLoop(requestTimeout: .seconds(5), logger: logger)
        let socket = try client.connectDealer("tcp://127.0.0.1:\(port)")
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var answer: Result<BusMessage, BusRequestError>?
        Thread { client.run { _ in } }.start()
        client.execute {
            client.request(.userExists(uid: "1"), on: socket) { result in
                answer = result
                done.signal()
            }
        }
        Thread.sleep(forTimeInterval: 0.3)
        let worker = BusLoop(logger: logger)
        _ = try worker.bindRouter("tcp://127.0.0.1:\(port)")
        Thread {
            worker.run { incoming in worker.reply(to: incoming, with: .existence(false)) }
        }.start()
        done.wait()
        client.stop()
        worker.stop()
        #expect(answer == .success(.existence(false)))
    }

    @Test func aReplyAfterTheTimeoutStillReachesOnReply() throws {
        // A worker that answers 1.5 s late, with a reply carrying a push.
        let worker = BusLoop(logger: logger)
        let endpoint = try worker.boundEndpoint(worker.bindRouter("tcp://127.0.0.1:*"))
        let late = BusMessage.deliveredPush(connection: 7, bytes: Array("1 to 2 text\n".utf8))
        Thread {
            worker.run { incoming in
                Thread {
                    Thread.sleep(forTimeInterval: 1.5)
                    worker.execute { worker.reply(to: incoming, with: late) }
                }.start()
            }
        }.start()
        defer { worker.stop() }

        let client = BusLoop(requestTimeout: .milliseconds(100), logger: logger)
        let socket = try client.connectDealer(endpoint)
        let answered = DispatchSemaphore(value: 0), lateArrived = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var answer: Result<BusMessage, BusRequestError>?
        nonisolated(unsafe) var lateReply: BusMessage?
        client.onReply = { message in
            lateReply = message
            lateArrived.signal()
        }
        Thread { client.run { _ in } }.start()
        defer { client.stop() }
        Thread.sleep(forTimeInterval: 0.3)
        client.execute {
            client.request(.storeAndDeliver(pair: PairKey("1", "2"), record: [10], to: "2", gatewayId: "gw"), on: socket) { result in
                answer = result
                answered.signal()
            }
        }
        #expect(answered.wait(timeout: .now() + 5) == .success)
        #expect(answer == .failure(.timedOut))
        #expect(lateArrived.wait(timeout: .now() + 5) == .success)
        #expect(lateReply == late)
    }

    @Test func ofManyRequestsTheAnsweredGetTheirAnswerAndTheRestTimeOutNeverEarly() throws {
        let (worker, endpoint, _) = try startWorker()
        defer { worker.stop() }
        // Long enough that an answered request is never late on a busy machine.
        let timeoutNanos: UInt64 = 1_000_000_000
        let client = BusLoop(requestTimeout: .nanoseconds(Int64(timeoutNanos)), logger: logger)
        let socket = try client.connectDealer(endpoint)
        Thread { client.run { _ in } }.start()
        defer { client.stop() }
        Thread.sleep(forTimeInterval: 0.3)

        // Waves sent 20 ms apart (so their deadlines usually fall in different milliseconds),
        // half answered (`userExists`), half ignored (`signIn`). The first request to time out
        // sends one more from its callback, while the loop is expiring requests; it must time
        // out too, once.
        let waves = 3, perWave = 500, followUp = -1
        // Touched on the client's loop thread only.
        nonisolated(unsafe) var outcomes: [Int: [Result<BusMessage, BusRequestError>]] = [:]
        nonisolated(unsafe) var timedOutEarly = 0, firstAnswers = 0
        let allAnswered = DispatchSemaphore(value: 0)
        func send(_ message: BusMessage, key: Int) {
            let sent = DispatchTime.now().uptimeNanoseconds
            client.request(message, on: socket) { result in
                if result == .failure(.timedOut), DispatchTime.now().uptimeNanoseconds - sent < timeoutNanos { timedOutEarly += 1 }
                if result == .failure(.timedOut), outcomes[followUp] == nil, key != followUp {
                    outcomes[followUp] = []
                    send(.signIn(uid: "111111", password: "x"), key: followUp)
                }
                outcomes[key, default: []].append(result)
                if outcomes[key]!.count == 1 {
                    firstAnswers += 1
                    if firstAnswers == waves * perWave + 1 { allAnswered.signal() }
                }
            }
        }
        for wave in 0..<waves {
            client.execute {
                for index in 0..<perWave {
                    let key = wave * perWave + index
                    send(key.isMultiple(of: 2) ? .userExists(uid: "111111") : .signIn(uid: "111111", password: "x"), key: key)
                }
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        #expect(allAnswered.wait(timeout: .now() + 15) == .success)
        // Past every deadline again: a second answer to any request would have come by now.
        Thread.sleep(forTimeInterval: 1.5)
        let read = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var final: [Int: [Result<BusMessage, BusRequestError>]] = [:]
        client.execute {
            final = outcomes
            read.signal()
        }
        #expect(read.wait(timeout: .now() + 5) == .success)
        #expect(final.count == waves * perWave + 1)
        for (key, results) in final {
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
                if case .notify(let to, _) = incoming.message, to == "after-stop" { received.signal() }
            }
        }.start()
        defer { worker.stop() }

        let client = BusLoop(logger: logger)
        let socket = try client.connectDealer(endpoint)
        let stopped = DispatchSemaphore(value: 0)
        Thread {
            client.run { _ in }
            stopped.signal()
        }.start()
        Thread.sleep(forTimeInterval: 0.3)
        client.stop()
        stopped.wait()
        // Queued once the loop is gone, as a storage commit finishing during shutdown is.
        client.execute { client.send(BusEnvelope(requestId: 0, message: .notify(to: "after-stop", bytes: [1])), on: socket) }
        client.drain()
        #expect(received.wait(timeout: .now() + 5) == .success)
    }
}
