@testable import ChatBus
import ChatTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// A dealer's peer coming and going, from the socket monitor's events.
@Suite struct PeerReachabilityTests {
    @Test func onlyAPeerLostLongerThanTheGraceFailsFast() {
        var peer = PeerReachability()
        // Still starting: requests wait in the queue.
        #expect(!peer.failsFast(now: 1_000, grace: 10))
        #expect(peer.disconnected(now: 1_000) == nil)
        #expect(peer.connected() == nil)
        #expect(peer.disconnected(now: 2_000) == .unreachable)
        #expect(!peer.failsFast(now: 2_009, grace: 10), "a restart's moment")
        #expect(peer.failsFast(now: 2_010, grace: 10))
        #expect(peer.disconnected(now: 3_000) == nil, "already lost: no second line")
        #expect(peer.failsFast(now: 3_000, grace: 10), "lost since the first disconnect")
        #expect(peer.connected() == .reachableAgain)
        #expect(!peer.failsFast(now: 9_999, grace: 10))
    }

    @Test func aPeerExpectedBackWaitsAnotherGrace() {
        var peer = PeerReachability()
        peer.expectedBack(now: 500)
        #expect(peer.state == .neverConnected, "only a lost peer is changed")
        _ = peer.connected()
        _ = peer.disconnected(now: 1_000)
        #expect(peer.failsFast(now: 5_000, grace: 10))
        // A newer partition map names the worker again: it is starting.
        peer.expectedBack(now: 5_000)
        #expect(!peer.failsFast(now: 5_009, grace: 10))
        #expect(peer.failsFast(now: 5_010, grace: 10), "and fails fast again if it never comes")
        #expect(peer.connected() == .reachableAgain)
    }

    /// Over real sockets: a worker that goes away is logged as unreachable; past the grace a
    /// request fails at once instead of waiting out its timeout; a worker back on the same
    /// endpoint is logged and served.
    @Test func requestsToAWorkerThatIsGoneFailAtOnceAndServeAgainWhenItReturns() throws {
        func worker(at endpoint: String) throws -> (BusLoop, String) {
            let loop = BusLoop(logger: Logger(label: "worker"))
            let socket = try loop.bindRouter(endpoint)
            let bound = try loop.boundEndpoint(socket)
            Thread {
                loop.run { incoming in loop.reply(to: incoming, with: .existence(true)) }
                // Closes its sockets, as a worker's exit does.
                loop.drain()
            }.start()
            return (loop, bound)
        }
        let (first, endpoint) = try worker(at: "tcp://127.0.0.1:*")
        let log = CapturedLog()
        let client = BusLoop(requestTimeout: .seconds(20), failFastAfter: .milliseconds(200), logger: log.logger)
        let socket = try client.connectDealer(endpoint, worker: "worker")
        Thread { client.run { _ in } }.start()
        defer { client.stop() }

        func ask() throws -> (Result<BusMessage, BusRequestError>, Duration) {
            let done = DispatchSemaphore(value: 0)
            let outcome = Mutex<(Result<BusMessage, BusRequestError>, Duration)?>(nil)
            let sent = ContinuousClock.now
            client.execute {
                client.request(.userExists(uid: "000001"), on: socket) { result in
                    outcome.withLock { $0 = (result, ContinuousClock.now - sent) }
                    done.signal()
                }
            }
            try done.wait(for: "an answer", timeout: .seconds(30))
            return outcome.withLock { $0 }!
        }
        #expect(try ask().0 == .success(.existence(true)))

        first.stop()
        try waitUntil("the client to log the worker unreachable", timeout: .seconds(10)) {
            log.logged.contains { $0.message.contains("unreachable") }
        }
        Thread.sleep(forTimeInterval: 0.3)
        let (gone, took) = try ask()
        #expect(gone == .failure(.unreachable))
        #expect(took < .seconds(5), "failed at once, not after the 20 s timeout: \(took)")

        let (second, _) = try worker(at: endpoint)
        defer { second.stop() }
        try waitUntil("the worker to be served again", timeout: .seconds(10), interval: .milliseconds(100)) {
            try ask().0 == .success(.existence(true))
        }
        #expect(log.logged.contains { $0.message.contains("reachable again") })
    }
}
