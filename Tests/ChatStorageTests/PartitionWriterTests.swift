@testable import ChatBus
@testable import ChatStorage
import ChatTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// Group commit on a partition's own queue, over a real SQLite file and a running bus loop.
@Suite struct PartitionWriterTests {
    /// Unchecked: `writer` is set in `init`, before the loop runs; `committed` and `groups` are
    /// touched on the loop thread only (tests read them through `onLoop`).
    private final class Harness: @unchecked Sendable {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("partition-writer-\(UUID())").path
        let loop = BusLoop(logger: Logger(label: "test"))
        let socket: BusLoop.SocketID
        var writer: PartitionWriter!
        /// Records in the order their commits were reported (loop thread only).
        var committed: [[UInt8]] = []
        var groups = 0

        init() throws {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            socket = try loop.bindRouter("tcp://127.0.0.1:*")
            let store = try PartitionStore(path: "\(folder)/partition-0.sqlite")
            writer = PartitionWriter(partition: 0, store: store, loop: loop) { [unowned self] group, failure in
                #expect(failure == nil)
                groups += 1
                committed += group.map(\.record)
            }
            Thread { [loop] in loop.run(handler: { _ in }, afterBatch: { [unowned self] in self.writer.commitIfIdle() }) }.start()
        }

        func append(_ text: String, pair: PairKey) {
            let incoming = BusIncoming(socket: socket, peer: nil, envelope: BusEnvelope(requestId: 0, message: .existence(true)))
            writer.append(PartitionWriter.Append(incoming: incoming, pair: pair, record: Array(text.utf8), to: pair.high, gatewayId: "g"))
        }

        /// Runs `body` on the loop thread and waits for it.
        func onLoop<T: Sendable>(_ body: @escaping @Sendable () -> T) throws -> T {
            let done = DispatchSemaphore(value: 0)
            let value = Mutex<T?>(nil)
            loop.execute {
                let result = body()
                value.withLock { $0 = result }
                done.signal()
            }
            try done.wait(for: "the partition's loop to run a block", timeout: .seconds(10))
            return value.withLock { $0 }!
        }

        deinit {
            loop.stop()
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    @Test func aReadSeesEveryAppendQueuedBeforeIt() throws {
        let harness = try Harness()
        let pair = PairKey("100001", "100002")
        let done = DispatchSemaphore(value: 0)
        let history = Mutex<[UInt8]>([])
        for round in 0..<20 {
            harness.loop.execute {
                for line in 0..<50 { harness.append("\(round).\(line)\n", pair: pair) }
                if round == 19 {
                    // Queued in the same wake-up as the last appends, before any group commit ran.
                    harness.writer.withStore { try $0.history(of: pair) } completion: { result in
                        history.withLock { $0 = (try? result.get()) ?? [] }
                        done.signal()
                    }
                }
            }
        }
        try done.wait(for: "the read's answer", timeout: .seconds(30))
        let expected = (0..<20).flatMap { round in (0..<50).map { "\(round).\($0)\n" } }.joined()
        #expect(String(decoding: history.withLock { $0 }, as: UTF8.self) == expected)
        // Every append was reported committed, in arrival order, before the read's answer.
        let reported = try harness.onLoop { harness.committed.map { String(decoding: $0, as: UTF8.self) }.joined() }
        #expect(reported == expected)
    }

    @Test func manyAppendsCommitInFewerGroupsAllReported() throws {
        let harness = try Harness()
        let pair = PairKey("100003", "100004")
        for text in 0..<2000 { harness.loop.execute { harness.append("\(text)\n", pair: pair) } }
        var reported = 0
        try waitUntil("2000 appends reported committed (\(reported) so far)", timeout: .seconds(10)) {
            reported = try harness.onLoop { harness.committed.count }
            return reported >= 2000
        }
        #expect(reported == 2000)
        // Appends gathered into groups rather than one commit (and one fsync) each.
        let groups = try harness.onLoop { harness.groups }
        #expect(groups < 2000)
    }

    /// What the lock waits for before it goes: everything queued runs, then the database closes.
    @Test func closeRunsWhatWasQueuedThenClosesTheDatabase() throws {
        let harness = try Harness()
        let pair = PairKey("100005", "100006")
        let read = DispatchSemaphore(value: 0)
        let history = Mutex<[UInt8]>([])
        try harness.onLoop {
            harness.append("last\n", pair: pair)
            harness.writer.withStore { try $0.history(of: pair) } completion: { result in
                history.withLock { $0 = (try? result.get()) ?? [] }
                read.signal()
            }
            harness.writer.close()
        }
        try read.wait(for: "the read queued before close", timeout: .seconds(10))
        #expect(history.withLock { $0 } == Array("last\n".utf8))
        // SQLite removes the WAL file when the last connection to the database closes.
        #expect(!FileManager.default.fileExists(atPath: "\(harness.folder)/partition-0.sqlite-wal"))
        let closed = DispatchSemaphore(value: 0)
        let failure = Mutex<String>("")
        try harness.onLoop {
            harness.writer.withStore { try $0.history(of: pair) } completion: { result in
                if case .failure(let error) = result { failure.withLock { $0 = "\(error)" } }
                closed.signal()
            }
        }
        try closed.wait(for: "a read after close", timeout: .seconds(10))
        #expect(failure.withLock { $0 } == "partition 0 is closed")
    }
}
