import ChatBus
import ChatTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// Bus fields are hostile input too: a storage worker sent out-of-range values by something
/// that speaks the bus answers with a failure and keeps serving.
@Suite struct HostileBusTests {
    let system = ChatSystem.shared

    /// A DEALER of our own to `endpoint`, on a loop thread of its own.
    private final class BusClient: Sendable {
        let loop = BusLoop(requestTimeout: .seconds(10), logger: Logger(label: "hostile-bus-test"))
        let socket: BusLoop.SocketID

        init(endpoint: String) throws {
            socket = try loop.connectDealer(endpoint)
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
            try done.wait(for: "the storage worker's answer to \(message.kind)", timeout: .seconds(20))
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
        let worker = Partitioning(partitionCount: 16, workerCount: system.storageEndpoints.count).worker(of: pair)
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
}
