import ChatBus
import ChatTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// Bus fields are hostile input too: a worker sent out-of-range values by something that speaks
/// the bus answers with a failure and keeps serving.
@Suite struct HostileBusTests {
    let system = ChatSystem.shared

    /// A DEALER of our own to `endpoint`, on a loop thread of its own.
    private final class BusClient: Sendable {
        let loop: BusLoop
        let socket: BusLoop.SocketID

        /// `security`: the system's key by default (a key proves a process is ours, not that
        /// what it sends is right: these tests send what no process of ours would).
        init(endpoint: String, security: BusSecurity = ChatSystem.shared.busSecurity, requestTimeout: Duration = .seconds(10)) throws {
            loop = BusLoop(requestTimeout: requestTimeout, security: security, logger: Logger(label: "hostile-bus-test"))
            socket = try loop.connectDealer(endpoint, worker: "worker")
            Thread { [loop] in loop.run { _ in } }.start()
        }

        func ask(_ message: BusMessage) throws -> Result<BusMessage, BusRequestError> {
            let done = DispatchSemaphore(value: 0)
            let answer = Mutex<Result<BusMessage, BusRequestError>?>(nil)
            loop.execute { [loop, socket] in
                loop.request(message, on: socket) { result in
                    answer.withLock { $0 = result }
                    done.signal()
                }
            }
            try done.wait(for: "the worker's answer to \(message.kind)", timeout: .seconds(20))
            return answer.withLock { $0 }!
        }
    }

    @Test func aReadChunkOutOfRangeIsRefusedAndTheWorkerServesOn() throws {
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        defer { withExtendedLifetime(bob) {} }
        #expect(try alice.ask("\(a) to \(b) 202004131702 file 5\nhostile.txt") == "ok")
        try alice.send(Array("hello".utf8))
        #expect(try alice.readReply(timeout: 30) == "ok")

        let pair = PairKey(a, b)
        let worker = PartitionMap.initial(partitions: 16, workers: system.storageEndpoints).owner(of: pair)
        let pid = system.childPID("storage", index: worker)
        let client = try BusClient(endpoint: system.storageEndpoints[worker])
        defer { client.loop.stop() }
        guard case .success(.downloadReady(let id, let size, _)) = try client.ask(.openDownload(pair: pair, name: "hostile.txt")) else {
            Issue.record("no download"); return
        }
        #expect(size == 5)
        for offset in [Int64.min, -1, size + 1, Int64.max] {
            guard case .success(.failure) = try client.ask(.readChunk(download: id, offset: offset, length: 16)) else {
                Issue.record("offset \(offset) was not refused"); continue
            }
        }
        #expect(try client.ask(.readChunk(download: id, offset: 0, length: 16)) == .success(.chunk(Array("hello".utf8))))
        #expect(system.childPID("storage", index: worker) == pid, "the storage worker restarted; log:\n\(system.log)")
    }

    /// Each worker gets requests a client could never cause; each is refused by name, nothing
    /// is created, and no worker restarts.
    @Test func outOfRangeRequestsAreRefusedByEveryWorker() throws {
        let (alice, a) = try system.signedInUser()
        defer { withExtendedLifetime(alice) {} }
        let pids = ["auth", "router"].map { system.childPID($0) } + system.storageEndpoints.indices.map { system.childPID("storage", index: $0) }
        let sha = String(repeating: "ab", count: 32)
        let hostile: [(endpoint: String, message: BusMessage)] = [
            (system.authEndpoint, .signUp(uid: "../../x", password: "pw")),
            (system.authEndpoint, .signUp(uid: "999999", password: "pw with spaces")),
            (system.authEndpoint, .addFriend(owner: a, friend: "1234567")),
            (system.routerEndpoint, .p2pOffer(from: a, to: a, size: -1, sha256: sha, name: "n", privateEndpoint: "")),
            (system.routerEndpoint, .queryPresence([a, "\n"])),
        ] + system.storageEndpoints.flatMap { endpoint -> [(endpoint: String, message: BusMessage)] in [
            (endpoint, .beginUpload(pair: PairKey(a, "../../etc"), header: [10], name: "passwd", size: 1)),
            (endpoint, .beginUpload(pair: PairKey(a, a), header: [10], name: "../passwd", size: 1)),
            (endpoint, .storeAndDeliver(pair: PairKey(a, "000000"), record: [10], to: "111111", gatewayId: "gw")),
        ] }
        for (endpoint, message) in hostile {
            let client = try BusClient(endpoint: endpoint)
            defer { client.loop.stop() }
            guard case .success(.failure(let reason)) = try client.ask(message) else {
                Issue.record("\(message.kind) to \(endpoint) was not refused"); continue
            }
            #expect(reason == message.fieldProblem, "\(message.kind)")
        }
        let auth = try BusClient(endpoint: system.authEndpoint)
        defer { auth.loop.stop() }
        #expect(try auth.ask(.userExists(uid: "999999")) == .success(.existence(false)))
        let now = ["auth", "router"].map { system.childPID($0) } + system.storageEndpoints.indices.map { system.childPID("storage", index: $0) }
        #expect(now == pids, "a worker restarted; log:\n\(system.log)")
        #expect(system.log.contains("refused a bus message with a field out of range"))
    }

    /// A message larger than any request is dropped by ZeroMQ with its sender's connection,
    /// before it is held whole; the worker serves on.
    @Test func anOversizedMessageDisconnectsItsSenderOnly() throws {
        let worker = 0
        let pid = system.childPID("storage", index: worker)
        let flood = try BusClient(endpoint: system.storageEndpoints[worker])
        defer { flood.loop.stop() }
        let huge = BusMessage.uploadChunk(upload: 1, bytes: Array(repeating: 0, count: 80 << 20))
        flood.loop.execute { [loop = flood.loop, socket = flood.socket] in loop.send(BusEnvelope(requestId: 0, message: huge), on: socket) }

        let probe = try BusClient(endpoint: system.storageEndpoints[worker])
        defer { probe.loop.stop() }
        let (_, a) = try system.signedInUser()
        let map = PartitionMap.initial(partitions: 16, workers: system.storageEndpoints)
        let pair = (0..<1000).lazy.map { PairKey(a, String(format: "%06d", $0)) }.first { map.owner(of: $0) == worker }!
        let answer = try probe.ask(.openHistory(pair: pair))
        guard case .success(.historySnapshot) = answer else { Issue.record("no history: \(answer)"); return }
        #expect(system.childPID("storage", index: worker) == pid, "the storage worker restarted; log:\n\(system.log)")
    }
}
