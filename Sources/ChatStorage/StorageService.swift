import ChatBus
import ChatRuntime
import Foundation
import Logging

/// A storage worker: is assigned the partitions its `PartitionMap` gives its endpoint, serves
/// those whose lock (`PartitionLock`) it holds, and keeps each pair's history there. One whose
/// lock another worker holds is tried again until it comes free. A request for a partition the
/// map gives another worker is answered with the map (`partitionMoved`), so the requester can
/// ask the owner.
///
/// With PostgreSQL (`storage.backend = "postgres"`) there is no map file and no lock: the
/// worker serves the partitions it holds leases on (`PartitionLeaseKeeper`), any partition
/// can go to any worker, and the map is the lease table's.
///
/// Appends are group-committed per partition, each partition on its own queue
/// (`PartitionWriter`); a text is handed to the router only once its group is durable.
///
/// Unchecked: its mutable state is set up in `run` before the loop starts, then touched on the
/// loop's thread only; `stop()`, called from another thread, only stops the (thread-safe) loop.
public final class StorageService: @unchecked Sendable {
    private let configuration: ChatConfiguration
    private let index: Int
    private let logger: Logger
    private let loop: BusLoop
    /// The config's `initial` map until `run` reads the map file, if there is one.
    private var map: PartitionMap
    /// This worker's index in `map.workers`; nil when the map gives it nothing.
    private var mapIndex: Int?
    /// The most a history page may hold (one row larger than this still goes whole).
    static let maxHistoryPageBytes: UInt32 = 16 << 20
    private var writers: [Int: PartitionWriter] = [:]
    /// One per partition in `writers`, held until its store is closed.
    private var locks: [Int: PartitionLock] = [:]
    /// Partitions assigned to this worker that it has not taken yet: another worker holds the
    /// lock, or (moved from another machine) the database is not here yet; retried until taken.
    private var waitingToTake: Set<Int> = [] {
        didSet {
            // Status shows these as moves in progress (or a conflict): one gauge each, changed
            // only when a partition starts or stops waiting.
            for partition in waitingToTake.symmetricDifference(oldValue) { metrics.waits(for: partition, waitingToTake.contains(partition)) }
        }
    }
    /// Partitions the map gave this worker after a move whose database is not in this data
    /// folder: said once each, and waited for rather than created empty.
    private var notCopiedHere: Set<Int> = []
    /// How often a partition locked elsewhere is tried again: a hand-over waits this long at most.
    static let lockRetryInterval: Duration = .milliseconds(200)
    /// Whether the retry of `waitingToTake` runs (a timer, made the first time it is needed).
    private var retryingLocks = false
    /// Requests for partitions this worker is assigned but waits to lock, by partition: answered
    /// once the lock is taken (a hand-over takes a fraction of a second), not refused meanwhile.
    /// With leases: requests for partitions no live worker holds (one being taken over), with
    /// when each arrived, answered at the next tick.
    private var waitingForLock: [Int: [(incoming: BusIncoming, since: UInt64)]] = [:]
    /// While waiting requests are handled again: when the one handled arrived.
    private var rehandlingSince: UInt64?
    /// With PostgreSQL: this worker's partition leases; nil with SQLite.
    private var leases: PartitionLeaseKeeper?
    /// With PostgreSQL and no files folder: the connection every partition's file bytes go through.
    private var blobConnection: PostgresBlobStore.Connection?
    /// At most this many requests wait per partition; past it they are refused.
    static let maxWaitingPerPartition = 10_000
    /// When the map file was last read for a request the map sent elsewhere (`now()`).
    private var mapLastRead: UInt64 = 0
    /// Set once the loop has stopped: the worker takes no partition any more.
    private var stopping = false
    /// A partition whose lock was taken after start-up but that would not open: `run` throws it.
    private var openFailure: Error?
    private var historyFolder: String { "\(configuration.dataDirectory)/history" }
    private var transfers: FileTransfers!
    /// An upload or download untouched this long is dropped (its gateway went away).
    private let transferIdleNanos: UInt64 = 300_000_000_000
    private var transferIdleSeconds: TimeInterval { TimeInterval(transferIdleNanos) / 1e9 }
    private var routerSocket: BusLoop.SocketID!
    private let metrics = StorageMetrics()

    /// `security`: the bus's (`BusSecurity.load`).
    public init(configuration: ChatConfiguration, index: Int, security: BusSecurity, logger: Logger) {
        self.configuration = configuration
        self.index = index
        self.logger = logger
        loop = BusLoop(requestTimeout: .milliseconds(configuration.requestTimeoutMilliseconds),
                       failFastAfter: .milliseconds(configuration.failFastAfterMilliseconds), security: security, logger: logger)
        map = PartitionMap.initial(partitions: configuration.storagePartitions, workers: configuration.storageEndpoints)
    }

    public func run() throws {
        guard configuration.storageEndpoints.indices.contains(index) else {
            throw ConfigurationError("storage index \(index) has no endpoint in storage.endpoints")
        }
        try FileManager.default.createDirectory(atPath: historyFolder, withIntermediateDirectories: true)
        if configuration.storageLeases {
            leases = try PartitionLeaseKeeper(url: configuration.storagePostgresURL, endpoint: configuration.storageEndpoints[index],
                                              partitions: configuration.storagePartitions,
                                              leaseSeconds: configuration.storageLeaseSeconds, logger: logger)
            mapIndex = nil
            if configuration.storageFilesFolder.isEmpty {
                blobConnection = try PostgresBlobStore.Connection(url: configuration.storagePostgresURL)
            }
        } else {
            try checkPartitionCount(in: historyFolder)
            try loadMap()
        }
        metrics.servesMap(epoch: map.epoch)
        // Bound before the partitions open (a first start creates them, fsyncs and all): requests
        // arriving meanwhile wait in the socket's queue instead of being refused.
        _ = try loop.bindRouter(configuration.storageEndpoints[index])
        routerSocket = try loop.connectDealer(configuration.routerEndpoint, worker: "router")
        transfers = FileTransfers(loop: loop, logger: logger, metrics: metrics)
        leases?.start { [weak self] view in
            guard let self else { return }
            loop.execute { self.follow(view) }
        }
        for partition in mapIndex.map(map.partitions(ownedBy:)) ?? [] {
            guard try !takeAndOpen(partition) else { continue }
            // Another worker serves it (one started with another storage.endpoints list, or
            // the previous owner still finishing): its requests are refused with a failure (the
            // map names this worker, so there is no one to send them on to), and its files are
            // left alone.
            waitingToTake.insert(partition)
            metrics.owns(partition, false)
            if notCopiedHere.contains(partition) { continue }
            logger.warning("partition locked by another worker; not serving it", metadata: ["storage.partition": "\(partition)"])
        }
        if !waitingToTake.isEmpty { retryLocks() }
        loop.every(.seconds(10)) { [weak self] in
            guard let self else { return }
            transfers.sweep(idleNanos: transferIdleNanos)
        }
        logger.info("storage ready", metadata: [
            "bus.endpoint": "\(configuration.storageEndpoints[index])",
            "storage.map_epoch": "\(map.epoch)",
            "storage.partitions": "\(writers.keys.sorted())",
            "storage.locked_elsewhere": "\(waitingToTake.sorted())",
        ])
        loop.run(handler: handle, afterBatch: startGroupCommits)
        // No partition taken from here on; the leases go once every store is closed.
        leases?.pause()
        // Stopping: texts already received are committed, uploads' writes finished and the
        // records of uploads finishing queued on their stores; each store closes after them,
        // and only then does its lock go, so the next owner never opens (or cleans) a partition
        // still being written. The drain then answers them all (and hands the texts to the
        // router), so none is stored without its sender being answered.
        stopping = true
        for writer in writers.values { writer.finishCommits() }
        transfers.finishFileWork()
        transfers.stopServingAny()
        for (partition, writer) in writers {
            writer.close()
            locks[partition]?.release()
        }
        loop.drain()
        leases?.stop()
        if let openFailure { throw openFailure }
    }

    /// Stops the worker. With leases it first hands its partitions over while still
    /// answering: it lets them go (commits, closes, releases), takes none, and answers their
    /// requests with the map until other workers hold them all (or twice the lease time has
    /// passed), so that gateways are sent on rather than left asking a worker that is gone.
    public func stop() {
        guard leases != nil else { return loop.stop() }
        loop.execute { [self] in handOverAndStop() }
    }

    /// Set once a stop began handing the partitions over (loop thread).
    private var handingOverSince: UInt64?
    /// While handing over: how many other storage workers the latest tick saw alive.
    private var otherWorkersWhileHandingOver: Int?
    /// While handing over: since when every partition is held elsewhere (uptime nanoseconds).
    private var handedOverSince: UInt64?
    /// How long a stopping worker goes on answering once its partitions are held elsewhere:
    /// two of the gateways' map requests (one a second), so that they have the new map before
    /// it is gone and send nothing to a worker that no longer answers.
    static let answerAfterHandOverNanos: UInt64 = 2_000_000_000

    private func handOverAndStop() {
        guard let leases, handingOverSince == nil, !stopping else { return }
        handingOverSince = DispatchTime.now().uptimeNanoseconds
        // Every text received committed and every store closed first; then every lease goes
        // (those of partitions just taken and not served yet too).
        for partition in writers.keys.sorted() { letGo(partition) }
        leases.retire()
        logger.info("stopping: partitions handed over to the other storage workers")
        loop.every(.milliseconds(100)) { [weak self] in self?.stopOnceHandedOver() }
    }

    /// Stops the loop once every partition's lease has been live at another worker (by the
    /// map of the latest tick) for `answerAfterHandOverNanos`; at once if no other worker is
    /// alive to take them (the whole system stopping); after twice the lease time at most.
    private func stopOnceHandedOver() {
        guard let since = handingOverSince, !stopping else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        let me = configuration.storageEndpoints[index]
        let elsewhere = !map.workers.isEmpty && map.owners.allSatisfy { map.workers[$0] != me }
        if elsewhere, handedOverSince == nil { handedOverSince = now }
        let answeredLongEnough = handedOverSince.map { now - $0 >= Self.answerAfterHandOverNanos } ?? false
        if answeredLongEnough || otherWorkersWhileHandingOver == 0 || now - since > UInt64(configuration.storageLeaseSeconds) * 2_000_000_000 {
            loop.stop()
        }
    }

    /// Takes a newer map from the map file, if there is one (a reload): partitions it no
    /// longer gives this worker are let go, and those it now gives are taken as their locks
    /// come free. From any thread.
    public func reloadMap() {
        // With leases the workers share out the partitions themselves: there is no map file.
        guard !configuration.storageLeases else { return }
        loop.execute { [self] in
            // Run by the drain after the loop stopped, it would take locks never let go.
            guard !stopping else { return }
            do {
                try readNewerMap()
            } catch {
                logger.error("partition map not reloaded", metadata: ["storage.error": "\(error)"])
            }
        }
    }

    private func handle(_ incoming: BusIncoming) {
        switch incoming.message {
        case .storeAndDeliver(let pair, let record, let to, let gatewayId):
            guard let writer = writers[map.partitioning.partition(of: pair)] else { return refuseForeign(pair, incoming) }
            writer.append(PartitionWriter.Append(incoming: incoming, pair: pair, record: record, to: to, gatewayId: gatewayId))
        case .openHistory(let pair):
            guard let writer = writers[map.partitioning.partition(of: pair)] else { return refuseForeign(pair, incoming) }
            // Only the snapshot's two numbers: the records go a page at a time, as the client reads.
            writer.withStore { store in try store.historySnapshot(of: pair) } completion: { [self] result in
                switch result {
                case .success(let snapshot):
                    loop.reply(to: incoming, with: .historySnapshot(through: snapshot.through, size: snapshot.size))
                case .failure(let error):
                    logger.error("history read failed", metadata: ["storage.pair": "\(pair)", "storage.error": "\(error)"])
                    loop.reply(to: incoming, with: .failure("\(error)"))
                }
            }
        case .readHistory(let pair, let after, let through, let maxBytes):
            guard let writer = writers[map.partitioning.partition(of: pair)] else { return refuseForeign(pair, incoming) }
            // Bus fields are hostile input: a page is never larger than this, whatever was asked.
            let pageBytes = Int(min(max(maxBytes, 1), Self.maxHistoryPageBytes))
            writer.withStore { store in
                try store.historyPage(of: pair, after: after, through: through, maxBytes: pageBytes)
            } completion: { [self] result in
                switch result {
                case .success(let page):
                    loop.reply(to: incoming, with: .historyPage(last: page.last, bytes: page.bytes))
                case .failure(let error):
                    logger.error("history read failed", metadata: ["storage.pair": "\(pair)", "storage.error": "\(error)"])
                    loop.reply(to: incoming, with: .failure("\(error)"))
                }
            }
        case .partitionMapWanted:
            loop.reply(to: incoming, with: .partitionMoved(map))
        case .beginUpload(let pair, _, _, _), .resumeUpload(let pair, _, _, _, _, _), .openDownload(let pair, _):
            // A transfer begins (or resumes) where its partition is served; the rest of it goes by its id.
            guard writers[map.partitioning.partition(of: pair)] != nil else { return refuseForeign(pair, incoming) }
            _ = transfers.handle(incoming, map: map)
        default:
            if transfers.handle(incoming, map: map) { return }
            loop.reply(to: incoming, with: .failure("storage does not handle \(incoming.message.kind)"))
        }
    }

    /// The partition count is part of the data: pairs hash into it. Changing it would make
    /// histories unreachable, so a folder remembers its count and refuses another.
    private func checkPartitionCount(in folder: String) throws {
        let path = "\(folder)/PARTITIONS"
        let wanted = "\(configuration.storagePartitions)\n"
        if let existing = try? String(contentsOfFile: path, encoding: .utf8) {
            guard existing == wanted else {
                let found = existing.trimmingCharacters(in: .whitespacesAndNewlines)
                throw ConfigurationError("\(folder) holds \(found) partitions but storage.partitions is "
                    + "\(configuration.storagePartitions); the count cannot change for a data folder")
            }
            return
        }
        try wanted.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Takes the partition's lock and, holding it, opens its database, removes what a crash
    /// left in its files folder and starts serving it; false, touching nothing, when another
    /// worker holds the lock, or when a map past the first gives it a partition whose database
    /// is not here.
    private func takeAndOpen(_ partition: Int) throws -> Bool {
        guard let lock = try PartitionLock(path: "\(historyFolder)/partition-\(partition).lock") else { return false }
        let database = "\(historyFolder)/partition-\(partition).sqlite"
        // Every partition is created by its first owner, under the first map. One a later map
        // gives this worker with no database here was moved from another machine and is not
        // copied yet: created empty, it would take texts its history then hides, and its
        // files' clean-up would delete the copied blobs no empty database names.
        if map.epoch > 1, !FileManager.default.fileExists(atPath: database) {
            lock.release()
            if notCopiedHere.insert(partition).inserted {
                logger.error("partition has no database in this data folder; copy it here first (not created empty)", metadata: [
                    "storage.partition": "\(partition)", "storage.map_epoch": "\(map.epoch)"])
            }
            return false
        }
        notCopiedHere.remove(partition)
        do {
            try serve(partition, store: try PartitionStore(path: database))
        } catch {
            lock.release()
            throw error
        }
        locks[partition] = lock
        return true
    }

    /// Serves `partition` from `store`, once this worker holds its lock or lease: removes what a
    /// crash left in its files folder, and takes its texts, reads and transfers from now on.
    private func serve(_ partition: Int, store: any PartitionHistory) throws {
        let blobs: any BlobStore = if let blobConnection {
            PostgresBlobStore(connection: blobConnection, partition: partition)
        } else {
            try BlobFolder(root: configuration.storageFilesFolder.isEmpty ? "\(configuration.dataDirectory)/files" : configuration.storageFilesFolder,
                           partition: partition)
        }
        // Uploads the previous owner handed over stay (their gateways resume them here),
        // unless idle; a crash's go.
        let removed = try blobs.removeLeftovers(keeping: { try store.referencedBlobs() }, handedOverIdleFor: transferIdleSeconds)
        if removed > 0 { logger.warning("removed files a crash left behind", metadata: ["storage.partition": "\(partition)", "storage.files": "\(removed)"]) }
        let writer = PartitionWriter(partition: partition, store: store, loop: loop, metrics: metrics) { [weak self] group, failure in
            self?.committed(group, partition: partition, failure: failure)
        }
        writers[partition] = writer
        transfers.serve(partition, blobs: blobs, writer: writer)
        metrics.owns(partition, true)
    }

    /// Follows a tick of the leases (loop thread): lets go of the partitions no longer held
    /// (lost to another worker, or to be released for balance, which then happens), serves the
    /// ones newly held, and answers the requests that waited for a partition to be taken.
    private func follow(_ view: PartitionLeaseKeeper.View) {
        guard let leases else { return }
        guard !stopping else {
            for partition in view.opened.keys { leases.closed(partition) }
            return
        }
        if handingOverSince != nil {
            otherWorkersWhileHandingOver = view.otherWorkers
            // Stores opened in a tick before the retirement: not served, their leases released.
            if let newer = view.map, newer.epoch >= map.epoch { map = newer }
            return rehandleWaiting()
        }
        // Of the same epoch too: the partitions whose lease ran out since are now this worker's to hold requests for.
        if let newer = view.map, newer.epoch >= map.epoch {
            map = newer
            metrics.servesMap(epoch: newer.epoch)
        }
        let releasing = Set(view.release)
        for partition in writers.keys.sorted() where !view.held.contains(partition) {
            if releasing.contains(partition) {
                letGo(partition)
            } else {
                logger.warning("partition lease lost; not serving it", metadata: ["storage.partition": "\(partition)"])
                abandon(partition)
                leases.closed(partition)
            }
        }
        for partition in view.release { leases.released(partition) }
        for (partition, store) in view.opened.sorted(by: { $0.key < $1.key }) where writers[partition] == nil {
            do {
                try serve(partition, store: store)
                logger.info("partition lease taken; serving it", metadata: ["storage.partition": "\(partition)"])
            } catch {
                // Left for another worker, whose machine may serve it (its files folder mounted, say).
                logger.error("cannot serve a leased partition; letting it go", metadata: [
                    "storage.partition": "\(partition)", "storage.error": "\(error)"])
                leases.released(partition)
            }
        }
        rehandleWaiting()
    }

    /// Handles again the requests that waited for their partition to be taken (loop thread).
    private func rehandleWaiting() {
        let waiting = waitingForLock
        waitingForLock = [:]
        for request in waiting.values.joined() {
            rehandlingSince = request.since
            handle(request.incoming)
        }
        rehandlingSince = nil
    }

    /// Tries the partitions locked elsewhere again (loop thread): one whose owner has stopped
    /// is opened and served from now on.
    private func retryLockedPartitions() {
        for partition in waitingToTake.sorted() {
            do {
                guard try takeAndOpen(partition) else { continue }
                waitingToTake.remove(partition)
                logger.info("partition lock taken; serving it", metadata: ["storage.partition": "\(partition)",
                                                                           "storage.partitions": "\(writers.keys.sorted())"])
                for request in waitingForLock.removeValue(forKey: partition) ?? [] { handle(request.incoming) }
            } catch {
                // As at start-up, a partition that will not open ends the worker, whose
                // supervisor restarts it; serving the rest without it would hide the failure.
                logger.critical("cannot open partition", metadata: ["storage.partition": "\(partition)", "storage.error": "\(error)"])
                openFailure = error
                loop.stop()
                return
            }
        }
    }

    /// A partition this worker does not serve: one its map gives another worker is answered
    /// with the map, which sends the requester there; one it is assigned but waits to lock
    /// (another worker still holds it) is refused, as before maps.
    private func refuseForeign(_ pair: PairKey, _ incoming: BusIncoming) {
        let partition = map.partitioning.partition(of: pair)
        if leases != nil { return refuseUnleased(partition, incoming) }
        // Sent here by a newer map than this worker's, perhaps (a move under way, this worker
        // not reloaded yet): the file is read again, at most every 100 ms, before answering.
        if map.owner(ofPartition: partition) != mapIndex, DispatchTime.now().uptimeNanoseconds - mapLastRead > 100_000_000 {
            mapLastRead = DispatchTime.now().uptimeNanoseconds
            if (try? readNewerMap()) == true { return handle(incoming) }
        }
        if map.owner(ofPartition: partition) == mapIndex, waitingToTake.contains(partition),
           waitingForLock[partition, default: []].count < Self.maxWaitingPerPartition {
            // Its lock is still held by the worker handing it over: it waits for the lock.
            waitingForLock[partition, default: []].append((incoming, DispatchTime.now().uptimeNanoseconds))
            return
        }
        guard map.owner(ofPartition: partition) == mapIndex else {
            // Expected while a gateway catches up with a move: one line per request would flood the log.
            logger.debug("asked for a partition the map gives another worker", metadata: [
                "storage.partition": "\(partition)", "storage.map_epoch": "\(map.epoch)"])
            return loop.reply(to: incoming, with: .partitionMoved(map))
        }
        logger.error("asked for a partition this worker does not own", metadata: ["storage.pair": "\(pair)"])
        loop.reply(to: incoming, with: .failure("partition not owned by storage worker \(index)"))
    }

    /// With leases, a partition this worker does not hold: one the map gives another worker
    /// (who holds a live lease on it) is answered with the map; one the map gives this worker
    /// (no live worker holds it: its worker died or was cut off and another takes it over
    /// within the lease time, or this one is opening it) waits for the next ticks, until most
    /// of the requester's timeout has passed.
    private func refuseUnleased(_ partition: Int, _ incoming: BusIncoming) {
        let now = DispatchTime.now().uptimeNanoseconds
        if map.workers[map.owner(ofPartition: partition)] != configuration.storageEndpoints[index] {
            return loop.reply(to: incoming, with: .partitionMoved(map))
        }
        let since = rehandlingSince ?? now
        let patience = UInt64(configuration.requestTimeoutMilliseconds) * 800_000
        if now - since < patience, waitingForLock[partition, default: []].count < Self.maxWaitingPerPartition {
            waitingForLock[partition, default: []].append((incoming, since))
            return
        }
        logger.warning("no storage worker holds the partition yet", metadata: ["storage.partition": "\(partition)"])
        loop.reply(to: incoming, with: .failure("partition \(partition) has no storage worker yet"))
    }

    /// Tries the partitions locked elsewhere every `lockRetryInterval`, from now on.
    private func retryLocks() {
        guard !retryingLocks else { return }
        retryingLocks = true
        loop.every(Self.lockRetryInterval) { [weak self] in self?.retryLockedPartitions() }
    }

    /// Reads the map file and, if its map is newer than this worker's, moves to it: lets go of
    /// the partitions it no longer gives this worker, and takes (or waits for) the ones it now
    /// gives. True when a newer map was taken. Loop thread.
    @discardableResult
    private func readNewerMap() throws -> Bool {
        guard let newer = try PartitionMapFile.read(from: PartitionMapFile.path(inHistoryFolder: historyFolder)),
              newer.epoch > map.epoch else { return false }
        guard newer.partitionCount == map.partitionCount else {
            throw ConfigurationError("the partition map in \(historyFolder) covers \(newer.partitionCount) partitions, not \(map.partitionCount)")
        }
        map = newer
        metrics.servesMap(epoch: newer.epoch)
        mapIndex = newer.workers.firstIndex(of: configuration.storageEndpoints[index])
        let assigned = Set(mapIndex.map(newer.partitions(ownedBy:)) ?? [])
        for partition in writers.keys.sorted() where !assigned.contains(partition) { letGo(partition) }
        for partition in waitingToTake.subtracting(assigned) {
            waitingToTake.remove(partition)
            // Sent on: the map now names their owner.
            for request in waitingForLock.removeValue(forKey: partition) ?? [] { handle(request.incoming) }
        }
        waitingToTake.formUnion(assigned.subtracting(writers.keys))
        logger.notice("partition map reloaded", metadata: [
            "storage.map_epoch": "\(map.epoch)", "storage.partitions": "\(writers.keys.sorted())",
            "storage.waiting_for": "\(waitingToTake.sorted())"])
        if !waitingToTake.isEmpty {
            retryLockedPartitions()
            retryLocks()
        }
        return true
    }

    /// Stops serving `partition`, which the map now gives another worker (loop thread): its
    /// requests are answered `partitionMoved` from now on; the texts received for it are
    /// committed (and handed to the router) and its file work done before its store closes,
    /// and only then does its lock go, for the new owner to take.
    private func letGo(_ partition: Int) {
        guard let writer = writers.removeValue(forKey: partition) else { return }
        transfers.stopServing(partition)
        writer.finishCommits()
        transfers.finishFileWork()
        writer.close()
        locks.removeValue(forKey: partition)?.release()
        metrics.owns(partition, false)
        logger.info("partition let go; another worker takes it", metadata: ["storage.partition": "\(partition)"])
    }

    /// Stops serving `partition` at once, its lease lost (another worker took it, or the
    /// database is out of reach past the lease time): unlike `letGo` it waits for nothing
    /// (that work may hang on the lost connection while requests queue behind the loop). Texts
    /// waiting are answered now, the ones committing when their commit fails; uploads are
    /// handed over (their bytes are in the database).
    private func abandon(_ partition: Int) {
        guard let writer = writers.removeValue(forKey: partition) else { return }
        transfers.stopServing(partition)
        writer.abandon(failing: LeaseLost(partition: partition))
        metrics.owns(partition, false)
    }

    struct LeaseLost: Error, CustomStringConvertible {
        let partition: Int
        var description: String { "partition \(partition) is no longer leased to this storage worker" }
    }

    /// The map file's map if the data folder has one, else the config's `initial`; it must
    /// cover the folder's partitions, and this worker is found in it by its endpoint.
    private func loadMap() throws {
        if let stored = try PartitionMapFile.read(from: PartitionMapFile.path(inHistoryFolder: historyFolder)) {
            guard stored.partitionCount == configuration.storagePartitions else {
                throw ConfigurationError("the partition map in \(historyFolder) covers \(stored.partitionCount) partitions but "
                    + "storage.partitions is \(configuration.storagePartitions)")
            }
            map = stored
        }
        let endpoint = configuration.storageEndpoints[index]
        mapIndex = map.workers.firstIndex(of: endpoint)
        if mapIndex == nil {
            logger.warning("the partition map gives this worker nothing", metadata: [
                "bus.endpoint": "\(endpoint)", "storage.map_epoch": "\(map.epoch)"])
        }
    }

    private func startGroupCommits() {
        for writer in writers.values { writer.commitIfIdle() }
    }

    private func committed(_ group: [PartitionWriter.Append], partition: Int, failure: Error?) {
        if let failure {
            // Refused by the fence, or never tried: nothing was written, and the gateway may
            // send the texts to the partition's new owner.
            if failure is LeaseLost || PostgresPartitionStore.isLeaseLost(failure) {
                logger.notice("texts refused: the partition's lease went to another worker", metadata: [
                    "storage.partition": "\(partition)", "storage.texts": "\(group.count)"])
                for append in group { loop.reply(to: append.incoming, with: .partitionMoved(map)) }
                return
            }
            logger.error("append failed", metadata: ["storage.partition": "\(partition)", "storage.error": "\(failure)"])
            for append in group { loop.reply(to: append.incoming, with: .delivery(.unavailable)) }
            return
        }
        for append in group {
            // Durable now: the router pushes it and answers the gateway's request.
            let handOver = BusMessage.deliverStored(to: append.to, record: append.record, gatewayId: append.gatewayId,
                                                    requestId: append.incoming.envelope.requestId)
            loop.send(BusEnvelope(requestId: 0, message: handOver), on: routerSocket)
        }
    }
}
