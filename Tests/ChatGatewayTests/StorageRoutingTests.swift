import ChatBus
@testable import ChatGateway
import Testing

/// How the gateway picks a storage worker: by the newest map it knows, a transfer's
/// continuation by the worker that began it, and a `partitionMoved` answer followed only
/// while it leads somewhere new.
@Suite struct StorageRoutingTests {
    static let endpoints = ["tcp://10.0.0.1:7910", "tcp://10.0.0.2:7910", "tcp://10.0.0.3:7910"]
    static let first = PartitionMap.initial(partitions: 16, workers: Array(endpoints.prefix(2)))
    static let pair = PairKey("111111", "222222")
    /// `pair`'s partition.
    static let partition = first.partitioning.partition(of: pair)

    /// Epoch 2: `pair`'s partition goes to the third endpoint, the rest stay.
    static var moved: PartitionMap {
        var owners = first.owners
        owners[partition] = 2
        return try! PartitionMap(epoch: 2, workers: endpoints, owners: owners)
    }

    @Test func theConfigsMapRoutesAsBefore() {
        let routing = StorageRouting(map: Self.first)
        #expect(routing.endpoints == Array(Self.endpoints.prefix(2)))
        #expect(routing.slot(for: Self.pair) == Self.partition % 2)
        #expect(routing.slot(for: .openHistory(pair: Self.pair), pair: Self.pair) == Self.partition % 2)
    }

    @Test func aNewerMapIsAdoptedAndItsNewWorkersConnected() {
        var routing = StorageRouting(map: Self.first)
        var connected: [String] = []
        #expect(routing.adopt(Self.moved) { connected.append("\($1) \($0)") })
        #expect(connected == ["storage-2 \(Self.endpoints[2])"])
        #expect(routing.endpoints == Self.endpoints)
        #expect(routing.map.epoch == 2)
        #expect(routing.slot(for: Self.pair) == 2)
        #expect(routing.shouldResend(Self.pair, askedSlot: Self.partition % 2, resends: 0))
    }

    @Test func anOlderOrEqualMapChangesNothing() {
        var routing = StorageRouting(map: Self.first)
        #expect(routing.adopt(Self.moved) { _, _ in })
        #expect(!routing.adopt(Self.first) { _, _ in Issue.record("connected for an older map") })
        #expect(!routing.adopt(Self.moved) { _, _ in Issue.record("connected for the same epoch") })
        #expect(routing.map == Self.moved)
        let otherCount = PartitionMap.initial(partitions: 8, workers: ["tcp://x"]).rebalanced(to: ["tcp://y"]).rebalanced(to: ["tcp://z"])
        #expect(!routing.adopt(otherCount) { _, _ in Issue.record("connected for another partition count") })
        #expect(routing.map == Self.moved)
    }

    struct Refused: Error {}

    /// An endpoint that cannot be connected leaves the map as it was; what did connect keeps
    /// its slot, so slots and sockets still line up.
    @Test func aMapWhoseWorkerCannotBeConnectedIsNotAdopted() {
        var routing = StorageRouting(map: Self.first)
        let wider = Self.first.rebalanced(to: Self.endpoints + ["tcp://10.0.0.4:7910"])
        #expect(throws: Refused.self) {
            _ = try routing.adopt(wider) { endpoint, _ in if endpoint == "tcp://10.0.0.4:7910" { throw Refused() } }
        }
        #expect(routing.map == Self.first)
        #expect(routing.endpoints == Self.endpoints)
        #expect(routing.slot(for: Self.pair) == Self.partition % 2)
    }

    /// A worker that says "not mine" about a partition our map already sends to it, or a chain
    /// of such answers, ends in a failure, not a ping-pong.
    @Test func anAnswerLeadingNowhereNewIsNotFollowed() {
        var routing = StorageRouting(map: Self.first)
        #expect(!routing.shouldResend(Self.pair, askedSlot: Self.partition % 2, resends: 0), "same map, same worker")
        _ = routing.adopt(Self.moved) { _, _ in }
        #expect(!routing.shouldResend(Self.pair, askedSlot: 2, resends: 0), "the worker the newer map names said no")
        #expect(routing.shouldResend(Self.pair, askedSlot: 0, resends: 1))
        #expect(!routing.shouldResend(Self.pair, askedSlot: 0, resends: StorageRouting.maxResends))
    }

    @Test func aWorkerThatLeftKeepsItsSlot() {
        var routing = StorageRouting(map: Self.first)
        let withoutFirst = Self.first.rebalanced(to: [Self.endpoints[1], Self.endpoints[2]])
        var connected: [String] = []
        #expect(routing.adopt(withoutFirst) { connected.append($1) })
        // Worker 1 of the new map, but named by its slot: `storage-1` is the socket kept for the
        // worker that left the map's first place, and two sockets must not share a name.
        #expect(connected == ["storage-2"])
        #expect(routing.endpoints == Self.endpoints)
        #expect((0..<16).allSatisfy { partition in
            let pair = (0..<10_000).lazy.map { PairKey("111111", String(300_000 + $0)) }.first { withoutFirst.partitioning.partition(of: $0) == partition }!
            return routing.slot(for: pair) != 0
        })
    }

    /// Uploads and downloads stay with the worker that began them, whatever the map says since;
    /// once over they are forgotten.
    @Test func aTransferStaysWithTheWorkerThatBeganIt() {
        var routing = StorageRouting(map: Self.first)
        let before = Self.partition % 2
        routing.answered(.beginUpload(pair: Self.pair, header: [10], name: "a", size: 5), with: .success(.uploadReady(upload: 40)), from: before)
        routing.answered(.openDownload(pair: Self.pair, name: "a"), with: .success(.downloadReady(download: 41, size: 5, path: "/p")), from: before)
        routing.answered(.beginUpload(pair: Self.pair, header: [10], name: "b", size: 5), with: .failure(.timedOut), from: before)
        #expect(routing.transfersInProgress == 2)
        _ = routing.adopt(Self.moved) { _, _ in }
        #expect(routing.slot(for: .uploadChunk(upload: 40, bytes: [1]), pair: Self.pair) == before)
        #expect(routing.slot(for: .finishUpload(upload: 40), pair: Self.pair) == before)
        #expect(routing.slot(for: .readChunk(download: 41, offset: 0, length: 5), pair: Self.pair) == before)
        #expect(routing.slot(for: .closeDownload(download: 41), pair: Self.pair) == before)
        #expect(routing.slot(for: .beginUpload(pair: Self.pair, header: [10], name: "c", size: 1), pair: Self.pair) == 2, "a new one goes by the map")
        #expect(routing.slot(for: .uploadChunk(upload: 99, bytes: [1]), pair: Self.pair) == 2, "an unknown id by the map")

        routing.answered(.finishUpload(upload: 40), with: .failure(.timedOut), from: before)
        routing.sent(.closeDownload(download: 41))
        #expect(routing.transfersInProgress == 0)
        routing.answered(.beginUpload(pair: Self.pair, header: [10], name: "d", size: 5), with: .success(.uploadReady(upload: 42)), from: 2)
        routing.sent(.abortUpload(upload: 42))
        #expect(routing.transfersInProgress == 0)
    }

    /// A transfer its worker failed (or swept) is forgotten with the failure, not kept for ever.
    @Test func aTransferItsWorkerFailedIsForgotten() {
        var routing = StorageRouting(map: Self.first)
        routing.answered(.beginUpload(pair: Self.pair, header: [10], name: "a", size: 5), with: .success(.uploadReady(upload: 40)), from: 0)
        #expect(routing.transfersInProgress == 1)
        routing.answered(.uploadChunk(upload: 40, bytes: [1]), with: .success(.failure("unknown upload")), from: 0)
        #expect(routing.transfersInProgress == 0)
    }

    /// An upload handed over with its partition: its chunks still go to the old worker (which
    /// answers each with the map) until the new owner answers the resume; then to the new one.
    /// A chunk the old worker no longer answers counts as a move only once the map names another.
    @Test func anUploadHandedOverGoesToItsNewOwnerOnceResumed() {
        var routing = StorageRouting(map: Self.first)
        let before = Self.partition % 2
        routing.answered(.beginUpload(pair: Self.pair, header: [10], name: "a", size: 5), with: .success(.uploadReady(upload: 40)), from: before)
        let chunk = BusMessage.uploadChunk(upload: 40, bytes: [1])
        #expect(!routing.transferMovedAway(chunk, failure: .timedOut, pair: Self.pair, askedSlot: before), "the map still names its worker")
        _ = routing.adopt(Self.moved) { _, _ in }
        #expect(routing.transferMovedAway(chunk, failure: .timedOut, pair: Self.pair, askedSlot: before))
        #expect(routing.transferMovedAway(.readChunk(download: 41, offset: 0, length: 1), failure: .timedOut, pair: Self.pair, askedSlot: before))
        #expect(!routing.transferMovedAway(.openDownload(pair: Self.pair, name: "a"), failure: .unreachable, pair: Self.pair, askedSlot: before), "no continuation")
        #expect(routing.transferMovedAway(.finishUpload(upload: 40), failure: .unreachable, pair: Self.pair, askedSlot: before))
        #expect(!routing.transferMovedAway(.finishUpload(upload: 40), failure: .timedOut, pair: Self.pair, askedSlot: before),
                "a finish sent and unanswered may have been stored")
        routing.answered(chunk, with: .success(.partitionMoved(Self.moved)), from: before)
        #expect(routing.slot(for: chunk, pair: Self.pair) == before)
        let resume = BusMessage.resumeUpload(pair: Self.pair, header: [10], name: "a", size: 5, upload: 40, received: 1)
        #expect(routing.slot(for: resume, pair: Self.pair) == 2, "the resume goes by the map")
        routing.answered(resume, with: .success(.uploadReady(upload: 40)), from: 2)
        #expect(routing.slot(for: chunk, pair: Self.pair) == 2)
        #expect(routing.transfersInProgress == 1)
    }
}
