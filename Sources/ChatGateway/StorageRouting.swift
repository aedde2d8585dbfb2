import ChatBus

/// Where the gateway sends each storage request: by the newest partition map it knows, except
/// that an upload or download in progress stays with the worker that began it (that worker
/// holds its open file). No sockets: `GatewayBus` keeps one per entry of `endpoints`, in order,
/// and asks this which to use.
///
/// A worker asked about a partition its map gives another answers `partitionMoved` with that
/// map; the gateway adopts it if it is newer and sends the request again, at most
/// `maxResends` times, so a stale or looping answer ends as a failure instead of a ping-pong.
struct StorageRouting {
    static let maxResends = 2

    private(set) var map: PartitionMap
    /// Every storage endpoint a socket was made for, in the order made. Never shrinks: a worker
    /// that left the map may still be finishing a transfer it began.
    private(set) var endpoints: [String]
    /// `slotOfWorker[w]`: the index in `endpoints` of `map.workers[w]`.
    private(set) var slotOfWorker: [Int]
    /// Uploads and downloads in progress, by id: the slot of the worker that began them. (Ids
    /// are numbered per worker from a random 48-bit start, so two workers' ids do not meet.)
    private var transfers: [UInt64: Int] = [:]

    init(map: PartitionMap) {
        self.map = map
        endpoints = map.workers
        slotOfWorker = Array(map.workers.indices)
    }

    /// The slot to send `message`, a storage request about `pair`, to: two array reads for
    /// anything but a transfer's continuation.
    func slot(for message: BusMessage, pair: PairKey) -> Int {
        switch message {
        case .uploadChunk(let id, _), .finishUpload(let id), .abortUpload(let id), .readChunk(let id, _, _), .closeDownload(let id):
            if let slot = transfers[id] { return slot }
        default:
            break
        }
        return slot(for: pair)
    }

    /// The slot of the worker the map gives `pair`'s partition.
    func slot(for pair: PairKey) -> Int { slotOfWorker[map.owner(of: pair)] }

    func partition(of pair: PairKey) -> Int { map.partitioning.partition(of: pair) }

    func slot(ofPartition partition: Int) -> Int { slotOfWorker[map.owner(ofPartition: partition)] }

    /// Adopts `newer` if it is newer than the map held (and covers as many partitions); true
    /// if it did. Each endpoint it names with no slot yet is handed to `connect` (with its
    /// worker name, `storage-<index in the map>`) and gets the next slot; if `connect` throws,
    /// the map held stays, and the endpoints connected so far keep their slots.
    mutating func adopt(_ newer: PartitionMap, connecting connect: (_ endpoint: String, _ name: String) throws -> Void) rethrows -> Bool {
        guard newer.epoch > map.epoch, newer.partitionCount == map.partitionCount else { return false }
        var slots: [Int] = []
        slots.reserveCapacity(newer.workers.count)
        for endpoint in newer.workers {
            if let slot = endpoints.firstIndex(of: endpoint) {
                slots.append(slot)
                continue
            }
            // Named by its slot, which no other socket ever has: the map's index may repeat one.
            try connect(endpoint, "storage-\(endpoints.count)")
            endpoints.append(endpoint)
            slots.append(endpoints.count - 1)
        }
        slotOfWorker = slots
        map = newer
        return true
    }

    /// After a `partitionMoved` answered a request about `pair` sent to `asked` (and its map was
    /// offered to `adopt`): whether to send it again, which goes to `slot(for:pair:)`. Only if
    /// the map now names another worker and the request has resends left; otherwise the worker
    /// and the gateway agree, or the answers go round, and the request fails.
    func shouldResend(_ pair: PairKey, askedSlot asked: Int, resends: Int) -> Bool {
        resends < Self.maxResends && slot(for: pair) != asked
    }

    /// Notes what an answer means for transfers: a begun (or resumed) one stays with `slot`; a
    /// finished one, or one its worker no longer knows (it failed it, or swept it idle), is
    /// forgotten.
    mutating func answered(_ request: BusMessage, with answer: Result<BusMessage, BusRequestError>, from slot: Int) {
        switch request {
        case .beginUpload, .resumeUpload:
            if case .success(.uploadReady(let id)) = answer { transfers[id] = slot }
        case .openDownload:
            if case .success(.downloadReady(let id, _, _)) = answer { transfers[id] = slot }
        case .finishUpload(let id):
            transfers.removeValue(forKey: id)
        case .uploadChunk(let id, _), .readChunk(let id, _, _):
            // One handed over (`partitionMoved`) stays with its worker until resumed: chunks the
            // session sent before it heard of the move must get the same answer there.
            if case .success(.failure) = answer { transfers.removeValue(forKey: id) }
        default:
            break
        }
    }

    /// Whether an unanswered chunk of a transfer, or an upload's finish (its worker gone, or
    /// silent), counts as a move: the map now gives the pair's partition to another worker than
    /// `slot`, the one that began it. The session then resumes an upload at the owner, as after
    /// `partitionMoved` (the owner takes the partition only once the old worker let it go, and
    /// keeps only the bytes confirmed, so nothing is written twice), or opens a download
    /// there again.
    ///
    /// A finish counts only if it never left (`unreachable`): one sent and not answered may
    /// have been stored, and resuming it would store it twice, or fail it though it was stored.
    func transferMovedAway(_ request: BusMessage, failure: BusRequestError, pair: PairKey, askedSlot slot: Int) -> Bool {
        if case .finishUpload = request, failure != .unreachable { return false }
        return request.continuesTransfer && self.slot(for: pair) != slot
    }

    /// Notes a one-way message: an aborted upload or a closed download is forgotten.
    mutating func sent(_ message: BusMessage) {
        switch message {
        case .abortUpload(let id), .closeDownload(let id): transfers.removeValue(forKey: id)
        default: break
        }
    }

    /// Transfers in progress (for tests and figures).
    var transfersInProgress: Int { transfers.count }
}

extension BusMessage {
    /// A chunk of a transfer begun, or an upload's finish: it goes to the worker that began
    /// it, and `partitionMoved` is the session's to act on (not a request to send on).
    var continuesTransfer: Bool {
        switch self {
        case .uploadChunk, .finishUpload, .readChunk: return true
        default: return false
        }
    }
}
