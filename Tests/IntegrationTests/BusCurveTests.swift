import ChatBus
import ChatTestSupport
import Foundation
import Logging
import Synchronization
import Testing
import ZeroMQ

/// The bus under CurveZMQ, as every test system runs it: the supervisor makes the system's key
/// on its first start (owner-only), every process uses it, and a process without it gets
/// nothing from auth, router or storage, and is logged.
@Suite(.serialized) struct BusCurveTests {
    /// What a request from a bus client with `security` to `endpoint` comes to, waiting at
    /// most `timeout` for an answer.
    private func ask(_ message: BusMessage, at endpoint: String, with security: BusSecurity,
                     timeout: Duration = .seconds(2)) throws -> Result<BusMessage, BusRequestError> {
        let loop = BusLoop(requestTimeout: timeout, security: security, logger: Logger(label: "bus-curve-test"))
        let socket = try loop.connectDealer(endpoint, worker: "worker")
        Thread { loop.run { _ in } }.start()
        defer { loop.stop() }
        let done = DispatchSemaphore(value: 0)
        let answer = Mutex<Result<BusMessage, BusRequestError>?>(nil)
        loop.execute {
            loop.request(message, on: socket) { result in
                answer.withLock { $0 = result }
                done.signal()
            }
        }
        try done.wait(for: "an answer or the timeout", timeout: timeout + .seconds(10))
        return answer.withLock { $0 }!
    }

    /// A process that knows the system's public key (the server key) but holds another key
    /// pair: its handshake completes far enough for the ZAP handler to see its key and refuse
    /// it. A raw DEALER, since the bus's own clients take the server key from their pair.
    private func askKnowingOnlyThePublicKey(_ message: BusMessage, at endpoint: String, systemKey: String) throws -> [[UInt8]]? {
        let context = Context()
        let socket = try context.socket(.dealer)
        defer { socket.close(); context.terminate() }
        try socket.setLinger(milliseconds: 0)
        try socket.makeCurveClient(try CurveKeyPair.generate(), serverKey: systemKey)
        try socket.connect(endpoint)
        var batch = BusWriter()
        BusEnvelope(requestId: 1, message: message).append(toBatch: &batch)
        _ = try batch.withBytes { try socket.send(identity: nil, payload: $0, blocking: false) }
        let deadline = ContinuousClock.now + .seconds(2)
        while ContinuousClock.now < deadline {
            if let frames = try socket.receive(blocking: false) { return frames }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return nil
    }

    @Test func aPeerWithoutTheSystemsKeyGetsNothingAndIsLogged() throws {
        let system = try ChatSystem()
        defer { system.stop(); system.removeData() }
        guard case .curve(let keys) = system.busSecurity else {
            Issue.record("the supervisor made no bus key")
            return
        }
        let pair = PairKey("111111", "222222")
        let owner = PartitionMap.initial(partitions: 16, workers: system.storageEndpoints).owner(of: pair)
        // No Curve at all, to auth; Curve with a key pair of its own, to the router; Curve with
        // the system's public key as the server's but another pair, to storage.
        #expect(try ask(.userExists(uid: "111111"), at: system.authEndpoint, with: .none) == .failure(.timedOut))
        #expect(try ask(.queryPresence(["111111"]), at: system.routerEndpoint, with: .curve(try CurveKeyPair.generate())) == .failure(.timedOut))
        #expect(try askKnowingOnlyThePublicKey(.openHistory(pair: pair), at: system.storageEndpoints[owner], systemKey: keys.publicKey) == nil)
        // The system's key is answered.
        // (A longer wait than the strangers': a loaded machine may take more than their 2 s.)
        guard case .success(.existence) = try ask(.userExists(uid: "111111"), at: system.authEndpoint, with: system.busSecurity,
                                                  timeout: .seconds(15)) else {
            Issue.record("the system's key was not answered")
            return
        }
        func refusal(by process: String, _ reason: String) -> Bool {
            system.log.split(separator: "\n").contains {
                $0.contains("chatd.\(process):") && $0.contains("refused a connection without the system's key") && $0.contains(reason)
            }
        }
        try waitUntil("each refusal logged; log:\n\(system.log)", timeout: .seconds(30)) {
            // Which side drops a handshake first depends on timing, so the first two name one
            // reason or another; the ZAP handler's refusal always names the key and the peer.
            refusal(by: "auth", "bus.reason=") && refusal(by: "router", "bus.reason=")
                && refusal(by: "storage-\(owner)", "bus.peer=127.0.0.1 bus.reason=a key that is not the system's")
        }
    }

    /// The key the supervisor made: owner-only in an owner-only folder, and what `chatd keys`
    /// shows; a process started without it says where it is missing and stops.
    @Test func theKeyIsOwnerOnlyAndAProcessWithoutItStops() throws {
        let system = try ChatSystem()
        defer { system.stop(); system.removeData() }
        let path = BusKeyFile.path(inDataDirectory: system.dataDirectory.path)
        let file = try FileManager.default.attributesOfItem(atPath: path)
        let folder = try FileManager.default.attributesOfItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path)
        #expect((file[.posixPermissions] as? Int) == 0o600)
        #expect((folder[.posixPermissions] as? Int) == 0o700)
        let keys = try #require(try BusKeyFile.read(from: path))
        let shown = try StatusCommandTests.chatd(["keys"] + system.sharedArguments)
        #expect(shown.status == 0 && shown.standardOutput == "\(path) is in force\npublic key \(keys.publicKey)\n", "\(shown)")

        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("no-key-\(UUID())")
        defer { try? FileManager.default.removeItem(at: empty) }
        let alone = try StatusCommandTests.chatd(["auth", "--data-dir", empty.path, "--set", "auth.endpoint=\"tcp://127.0.0.1:1\""])
        #expect(alone.status != 0)
        #expect(alone.standardError.contains("bus key \(BusKeyFile.path(inDataDirectory: empty.path)): missing"), "\(alone.standardError)")
    }

    /// `bus.curve = false`: plain ZeroMQ, for a trusted single host; no key is made.
    @Test func curveOffIsPlainZeroMQ() throws {
        let system = try ChatSystem(settings: ["bus.curve=false"])
        defer { system.stop(); system.removeData() }
        #expect(!FileManager.default.fileExists(atPath: BusKeyFile.path(inDataDirectory: system.dataDirectory.path)))
        guard case .success(.existence) = try ask(.userExists(uid: "111111"), at: system.authEndpoint, with: .none,
                                                  timeout: .seconds(15)) else {
            Issue.record("plain ZeroMQ was not answered")
            return
        }
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        #expect(try alice.ask("\(a) to \(b) 202004131702 text\nplain") == "ok")
        #expect(try bob.readLine() == "\(a) to \(b) 202004131702 text")
    }

    /// A single-machine layout on `ipc://` endpoints (Unix sockets in a folder of the
    /// operator's), with CurveZMQ over them as over TCP.
    @Test func ipcEndpointsCarryTheBus() throws {
        let folder = URL(fileURLWithPath: "/tmp/chat-ipc-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let system = try ChatSystem(settings: [
            "auth.endpoint=\"ipc://\(folder.path)/auth\"", "router.endpoint=\"ipc://\(folder.path)/router\"",
            "storage.endpoints=[\"ipc://\(folder.path)/storage-0\", \"ipc://\(folder.path)/storage-1\"]",
        ])
        defer { system.stop(); system.removeData() }
        #expect(FileManager.default.fileExists(atPath: "\(folder.path)/storage-1"))
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        #expect(try alice.ask("\(a) to \(b) 202004131702 text\nover a unix socket") == "ok")
        #expect(try bob.readLine() == "\(a) to \(b) 202004131702 text")
        #expect(try bob.readLine() == "over a unix socket")
        #expect(try alice.upload(from: a, to: b, name: "f.bin", bytes: [1, 2, 3]) == "ok")
        #expect(try alice.download(me: a, peer: b, name: "f.bin") == [1, 2, 3])
    }
}
