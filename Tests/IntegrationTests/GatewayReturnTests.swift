import ChatBus
import ChatTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// A gateway the router took for dead (silent 5 s: here stopped with SIGSTOP, as a split
/// would silence it) comes back with its users still connected: the router must not call them
/// offline while it waits for the gateway's presence, and they get what is sent to them.
@Suite(.serialized) struct GatewayReturnTests {
    @Test func usersOfAGatewayBackFromTheDeadAreNotCalledOffline() throws {
        // A system of its own: stopping its gateway must not stall other tests' clients.
        let system = try ChatSystem()
        defer { system.stop(); system.removeData() }
        let (extra, port) = try system.startExtraGateway()
        defer { #expect(extra.stop(with: SIGTERM, within: .seconds(20)), "the extra gateway did not exit on SIGTERM; it was killed") }
        let bob = try TestClient(port: system.port), b = TestUIDs.make()
        try bob.signUpAndIn(b)
        let alice = try TestClient(port: port), a = TestUIDs.make()
        try alice.signUpAndIn(a)
        guard let stopped = system.childPID("gateway") else { throw ChatSystem.Failure(description: "no gateway running") }

        kill(stopped, SIGSTOP)
        var resumed = false
        defer { if !resumed { kill(stopped, SIGCONT) } }
        // Until the router takes bob's gateway for dead (5 s) alice's texts are pushed to it and
        // wait in its socket; after that they are answered offline: the router cannot know.
        var sent = 0
        try waitUntil("the router to take the stopped gateway for dead", timeout: .seconds(20), interval: .milliseconds(500)) {
            sent += 1
            try alice.sendLine("\(a) to \(b) 202004131702 text\nwhile stopped \(sent)")
            return try alice.readReply() == "Target user offline"
        }
        kill(stopped, SIGCONT)
        resumed = true

        // Bob stayed connected: his text is answered, so his gateway runs and talks to the bus again.
        try bob.sendLine("\(b) to \(a) 202004131703 text\nback")
        #expect(try bob.readReply() == "ok")
        // Right after, the router may still be rebuilding the presence of bob's gateway: texts
        // to bob are held meanwhile, never answered offline.
        let texts = (1...10).map { "after the return \($0)" }
        for text in texts {
            try alice.sendLine("\(a) to \(b) 202004131704 text\n\(text)")
            #expect(try alice.readReply() == "ok", "\"\(text)\" was not delivered to bob, who stayed signed in")
        }
        #expect(try pushedBodies(to: bob, until: texts.last!).filter { $0.hasPrefix("after the return") } == texts)
    }

    /// The router's side alone, step by step (the test above cannot make the router hear a
    /// gateway before its sync: a resumed gateway's first heartbeat is answered at once). We
    /// speak for a gateway the router has no presence for: it says hello (answered `needsSync`),
    /// then a stored text for its user reaches the router, then its `presenceSync`. The text's
    /// answer waits for the sync and is the push, not `recipientOffline`.
    @Test func aTextForAUserOfAGatewayNotYetSyncedWaitsForItsPresence() throws {
        let system = try ChatSystem()
        defer { system.stop(); system.removeData() }
        let recipient = try system.registeredUser()
        let (loop, socket, gatewayId) = try speakForANewGateway(to: system)
        defer { loop.stop() }
        let answers = Mutex<[String: Result<BusMessage, BusRequestError>]>([:])
        let record = Array("111111 to \(recipient) 202004131702 text\nheld\n".utf8)

        loop.execute {
            loop.request(.gatewayHello(gatewayId: gatewayId), on: socket) { result in answers.withLock { $0["hello"] = result } }
            // A request the router never answers itself, only through `deliverStored` naming its id
            // (the loop's first id was the hello's): it stands for the text's `storeAndDeliver`.
            loop.request(.detach(uid: recipient, connection: 7), on: socket) { result in answers.withLock { $0["text"] = result } }
            // Storage's part, on the same socket so it reaches the router after the hello.
            loop.send(BusEnvelope(requestId: 0, message: .deliverStored(to: recipient, record: record, gatewayId: gatewayId, requestId: 2)),
                      on: socket)
        }
        try waitUntil("the router's welcome", timeout: .seconds(10)) { answers.withLock { $0["hello"] != nil } }
        guard case .success(.routerWelcome(_, needsSync: true)) = answers.withLock({ $0["hello"] }) else {
            Issue.record("the router did not ask a new gateway for its presence"); return
        }
        loop.execute {
            let entry = PresenceEntry(uid: recipient, connection: 7, publicAddress: "127.0.0.1:40000")
            loop.request(.presenceSync([entry]), on: socket) { result in answers.withLock { $0["sync"] = result } }
        }
        try waitUntil("the text's answer", timeout: .seconds(10)) { answers.withLock { $0["text"] != nil } }
        #expect(answers.withLock { $0["text"] } == .success(.deliveredPush(connection: 7, bytes: record)))
    }

    /// A voice or file message is announced by the gateway itself (`announce`, once storage
    /// has it): its answer waits for the gateway's presence the same way.
    @Test func anAnnouncedFileForAUserOfAGatewayNotYetSyncedWaitsForItsPresence() throws {
        let system = try ChatSystem()
        defer { system.stop(); system.removeData() }
        let recipient = try system.registeredUser()
        let (loop, socket, gatewayId) = try speakForANewGateway(to: system)
        defer { loop.stop() }
        let answers = Mutex<[String: Result<BusMessage, BusRequestError>]>([:])
        let record = Array("111111 to \(recipient) 202004131702 file\nreport.pdf 3\n".utf8)

        loop.execute {
            loop.request(.gatewayHello(gatewayId: gatewayId), on: socket) { result in answers.withLock { $0["hello"] = result } }
            loop.request(.announce(from: "111111", to: recipient, record: record), on: socket) { result in
                answers.withLock { $0["announce"] = result }
            }
        }
        try waitUntil("the router's welcome", timeout: .seconds(10)) { answers.withLock { $0["hello"] != nil } }
        // Long enough for an unheld answer to have come back (it is immediate).
        Thread.sleep(forTimeInterval: 0.3)
        #expect(answers.withLock { $0["announce"] } == nil, "the announcement was answered before the gateway's presence came")
        loop.execute {
            let entry = PresenceEntry(uid: recipient, connection: 9, publicAddress: "127.0.0.1:40001")
            loop.request(.presenceSync([entry]), on: socket) { result in answers.withLock { $0["sync"] = result } }
        }
        try waitUntil("the announcement's answer", timeout: .seconds(10)) { answers.withLock { $0["announce"] != nil } }
        #expect(answers.withLock { $0["announce"] } == .success(.deliveredPush(connection: 9, bytes: record)))
    }

    /// A bus loop speaking to `system`'s router as a gateway it has never heard from, running
    /// on a thread of its own until stopped.
    private func speakForANewGateway(to system: ChatSystem) throws -> (BusLoop, BusLoop.SocketID, gatewayId: String) {
        let gatewayId = "gw-return-test-\(UUID().uuidString.prefix(8))"
        let loop = BusLoop(requestTimeout: .seconds(10), security: system.busSecurity, logger: Logger(label: "gateway-return-test"))
        let socket = try loop.connectDealer(system.routerEndpoint, worker: "router", identity: gatewayId)
        Thread { loop.run { _ in } }.start()
        return (loop, socket, gatewayId)
    }

    /// The bodies of the texts pushed to `client`, in order, up to and including `last`.
    private func pushedBodies(to client: TestClient, until last: String) throws -> [String] {
        var bodies = client.pushes.map(\.body)
        while bodies.last != last {
            _ = try client.readLine(timeout: 10)  // the push's header
            bodies.append(try client.readLine(timeout: 10))
        }
        return bodies
    }
}
