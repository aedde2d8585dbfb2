import ChatBus
import ChatProtocol
import Dispatch
import Foundation
import Logging

/// Uploads and downloads of files through the server, for one storage worker, whatever keeps
/// the bytes (`BlobStore`: a folder, or PostgreSQL).
///
/// When the worker lets a partition go (a move), its uploads in progress are handed over, not
/// dropped: their bytes stay, and their next chunk or finish is answered `partitionMoved`,
/// upon which the gateway resumes them at the new owner (`resumeUpload`) from the bytes
/// confirmed. Downloads go on where they began (a stored file never changes).
///
/// File I/O (creations, writes, fsyncs, reads) runs on one serial queue, so a large fsync never stalls the
/// bus loop and the text appends it serves; results come back to the loop with `execute`.
/// Because the queue is serial, a chunk's write always precedes the finish or abort queued after it.
///
/// Unchecked: its mutable state (`uploads`, `downloads`, `handedOver`, `nextId`, and the
/// partitions served) is touched on the bus loop's thread only; closures on `fileQueue` capture values, and come back
/// with `loop.execute`.
final class FileTransfers: @unchecked Sendable {
    private struct Upload {
        let partition: Int
        let pair: PairKey
        let header: [UInt8]
        let name: String
        let size: Int64
        var received: Int64 = 0
        /// Written since write-back was last started.
        var unsynced = 0
        let file: any BlobUpload
        var lastActivity: UInt64
    }

    private struct Download {
        let blob: any StoredBlob
        let size: Int64
        var lastActivity: UInt64
    }

    static let maxChunk = 1 << 20
    /// Uploads are written back to disk as they go (without waiting), so the fsync before the
    /// reply is short even for a large file and never holds the file thread (and everyone's
    /// transfers) for seconds.
    static let writeBackEvery = 8 << 20

    private let loop: BusLoop
    private let logger: Logger
    /// The partitions this worker holds the locks (or leases) of; one taken later is added by `serve`.
    private var stores: [Int: any BlobStore] = [:]
    /// The partitions' stores; a file's record commits after the texts that arrived before it.
    private var writers: [Int: PartitionWriter] = [:]
    private let fileQueue = DispatchQueue(label: "storage.files")
    private let metrics: StorageMetrics
    private var uploads: [UInt64: Upload] = [:]
    private var downloads: [UInt64: Download] = [:]
    /// Uploads handed over when their partition was let go, with when: their continuations are
    /// answered with the map, which names the owner to resume at. Forgotten after the idle time.
    private var handedOver: [UInt64: UInt64] = [:]
    private var nextId = UInt64.random(in: 1...(1 << 48))

    init(loop: BusLoop, logger: Logger, metrics: StorageMetrics) {
        self.loop = loop
        self.metrics = metrics
        self.logger = logger
    }

    /// Takes transfers of `partition` from now on (loop thread, once its lock is held).
    func serve(_ partition: Int, blobs: any BlobStore, writer: PartitionWriter) {
        stores[partition] = blobs
        writers[partition] = writer
    }

    /// Takes no more transfers of `partition` (loop thread, as its worker lets it go): uploads
    /// under way there are handed over (their bytes kept for the next owner); downloads
    /// go on (a stored file does not change, and it is open). An upload already
    /// finishing commits its record before the partition's store closes (`finish`).
    func stopServing(_ partition: Int) {
        stores.removeValue(forKey: partition)
        writers.removeValue(forKey: partition)
        let now = Self.now()
        for (id, upload) in uploads where upload.partition == partition {
            uploads.removeValue(forKey: id)
            handedOver[id] = now
            logger.info("upload handed over with its partition", metadata: [
                "storage.partition": "\(partition)", "storage.upload": "\(id)", "storage.received": "\(upload.received)"])
            fileQueue.async { upload.file.handOver() }
        }
    }

    /// Handles a transfer message (`map`: the worker's, sent to the gateway of an upload
    /// handed over); false for any other message.
    func handle(_ incoming: BusIncoming, map: PartitionMap) -> Bool {
        switch incoming.message {
        case .beginUpload(let pair, let header, let name, let size):
            begin(incoming, partition: map.partitioning.partition(of: pair), pair: pair, header: header, name: name, size: size, map: map)
        case .resumeUpload(let pair, let header, let name, let size, let id, let received):
            resume(incoming, partition: map.partitioning.partition(of: pair), pair: pair, header: header, name: name,
                   size: size, upload: id, received: received, map: map)
        case .uploadChunk(let id, _) where handedOver[id] != nil, .finishUpload(let id) where handedOver[id] != nil:
            loop.reply(to: incoming, with: .partitionMoved(map))
        case .uploadChunk(let id, let bytes):
            write(incoming, upload: id, bytes: bytes)
        case .finishUpload(let id):
            finish(incoming, upload: id)
        case .abortUpload(let id):
            // One handed over is not this worker's to delete: its file goes with the new
            // owner's sweep of abandoned uploads.
            handedOver.removeValue(forKey: id)
            abort(upload: id, reason: "client left")
        case .openDownload(let pair, let name):
            open(incoming, partition: map.partitioning.partition(of: pair), pair: pair, name: name)
        case .readChunk(let id, let offset, let length):
            read(incoming, download: id, offset: offset, length: Int(length))
        case .closeDownload(let id):
            if let download = downloads.removeValue(forKey: id) { fileQueue.async { download.blob.close() } }
        default:
            return false
        }
        return true
    }

    /// Waits for the file work queued so far (once no more is asked for: the partition let go,
    /// or the loop stopped): no chunk, rename or fsync in a partition's folder runs after its
    /// lock goes, and every upload finishing has its record queued on its store.
    func finishFileWork() {
        fileQueue.sync {}
    }

    /// Serves no partition from now on (loop thread, as the worker stops, before its locks
    /// go): the answers still to come touch no file of a partition another worker may hold.
    func stopServingAny() {
        stores.removeAll()
        writers.removeAll()
    }

    /// Drops transfers idle for longer than `idleNanos` (their gateway went away without a
    /// word), and the files of uploads handed over to this worker and never resumed.
    func sweep(idleNanos: UInt64) {
        let now = Self.now()
        for (id, upload) in uploads where now - upload.lastActivity > idleNanos { abort(upload: id, reason: "idle") }
        for (id, download) in downloads where now - download.lastActivity > idleNanos {
            downloads.removeValue(forKey: id)
            fileQueue.async { download.blob.close() }
        }
        handedOver = handedOver.filter { now - $0.value <= idleNanos }
        let idleSeconds = TimeInterval(idleNanos) / 1e9
        for blobs in stores.values {
            fileQueue.async { blobs.removeAbandonedUploads(idleFor: idleSeconds) }
        }
    }

    private func begin(_ incoming: BusIncoming, partition: Int, pair: PairKey, header: [UInt8], name: String, size: Int64,
                       map: PartitionMap) {
        guard let blobs = stores[partition] else { return loop.reply(to: incoming, with: .failure("partition not owned")) }
        // Bus fields are checked as hostile input: a negative size would never complete.
        guard size >= 0 else { return loop.reply(to: incoming, with: .failure("negative size")) }
        let id = nextId
        nextId += 1
        fileQueue.async { [loop] in
            let made = Result { try blobs.createUpload(id: id) }
            loop.execute { [self] in
                start(incoming, made, id: id, partition: partition, map: map) { file in
                    Upload(partition: partition, pair: pair, header: header, name: name, size: size, file: file, lastActivity: Self.now())
                }
            }
        }
    }

    /// Carries on an upload another worker began and handed over with `partition`, from the
    /// `received` bytes its gateway had confirmed, under the same id (its file's name).
    private func resume(_ incoming: BusIncoming, partition: Int, pair: PairKey, header: [UInt8], name: String,
                        size: Int64, upload id: UInt64, received: Int64, map: PartitionMap) {
        guard let blobs = stores[partition] else { return loop.reply(to: incoming, with: .failure("partition not owned")) }
        guard (0...size).contains(received) else { return loop.reply(to: incoming, with: .failure("received out of range")) }
        guard uploads[id] == nil else { return loop.reply(to: incoming, with: .failure("upload already in progress")) }
        fileQueue.async { [loop] in
            let made = Result { try blobs.resumeUpload(id: id, received: received) }
            loop.execute { [self] in
                start(incoming, made, id: id, partition: partition, map: map) { file in
                    handedOver.removeValue(forKey: id)
                    logger.info("upload resumed after its partition moved", metadata: [
                        "storage.partition": "\(partition)", "storage.upload": "\(id)", "storage.received": "\(received)"])
                    return Upload(partition: partition, pair: pair, header: header, name: name, size: size, received: received,
                                  file: file, lastActivity: Self.now())
                }
            }
        }
    }

    /// Takes upload `id`, begun or resumed on the file queue (`made`), as `upload` makes it
    /// with its file, and answers `uploadReady`; or answers why not. One whose partition went
    /// meanwhile is handed over (it is the next owner's), and the gateway sent there with the map.
    private func start(_ incoming: BusIncoming, _ made: Result<any BlobUpload, Error>, id: UInt64, partition: Int, map: PartitionMap,
                       upload: (any BlobUpload) -> Upload) {
        switch made {
        case .success(let file):
            guard stores[partition] != nil, uploads[id] == nil else {
                fileQueue.async { file.handOver() }
                return loop.reply(to: incoming, with: .partitionMoved(map))
            }
            uploads[id] = upload(file)
            loop.reply(to: incoming, with: .uploadReady(upload: id))
        case .failure(let error):
            logger.error("cannot start an upload", metadata: ["storage.error": "\(error)"])
            loop.reply(to: incoming, with: .failure("\(error)"))
        }
    }

    private func write(_ incoming: BusIncoming, upload id: UInt64, bytes: [UInt8]) {
        guard var upload = uploads[id] else {
            logger.warning("chunk of an unknown upload", metadata: ["storage.upload": "\(id)"])
            return loop.reply(to: incoming, with: .failure("no such upload"))
        }
        // Written so it cannot overflow, whatever size was announced.
        guard Int64(bytes.count) <= upload.size - upload.received else {
            abort(upload: id, reason: "more bytes than announced")
            return loop.reply(to: incoming, with: .failure("more bytes than announced"))
        }
        upload.received += Int64(bytes.count)
        upload.lastActivity = Self.now()
        upload.unsynced += bytes.count
        let writeBackNow = upload.unsynced >= Self.writeBackEvery
        if writeBackNow { upload.unsynced = 0 }
        uploads[id] = upload
        let file = upload.file
        fileQueue.async { [loop] in
            let result = Result { try file.append(bytes, writeBack: writeBackNow) }
            loop.execute { [self] in
                switch result {
                case .success: loop.reply(to: incoming, with: .chunkStored)
                case .failure(let error):
                    logger.error("upload write failed", metadata: ["storage.error": "\(error)"])
                    abort(upload: id, reason: "write failed")
                    loop.reply(to: incoming, with: .failure("\(error)"))
                }
            }
        }
    }

    private func finish(_ incoming: BusIncoming, upload id: UInt64) {
        guard let upload = uploads.removeValue(forKey: id) else { return loop.reply(to: incoming, with: .failure("no such upload")) }
        guard upload.received == upload.size else {
            fileQueue.async { upload.file.discard() }
            return loop.reply(to: incoming, with: .failure("upload incomplete"))
        }
        let blobs = stores[upload.partition]!
        let writer = writers[upload.partition]!
        // The texts that came before the finish commit before its record does.
        writer.commitWaiting()
        fileQueue.async { [loop, metrics] in
            let started = DispatchTime.now().uptimeNanoseconds
            let made = Result { try upload.file.makeDurable() }
            metrics.fsyncSeconds.recordNanoseconds(DispatchTime.now().uptimeNanoseconds - started)
            guard case .success(let blob) = made else {
                return loop.execute { [self] in refuse(incoming, made, blobs: blobs, upload: upload) }
            }
            // Queued on the partition's store from here, not from the loop: once the file work
            // is done (`finishFileWork`), the record is queued, and a store closing after it
            // (the partition let go, the worker stopping) commits it first.
            writer.afterQueued { store in
                try store.commitFile(pair: upload.pair, name: upload.name, blob: blob, size: upload.size) {
                    HistoryRecord.bytes(headerLine: upload.header, body: $0.utf8)
                }
            } completion: { [self] committed in
                guard case .success(let stored) = committed else { return refuse(incoming, committed, blobs: blobs, upload: upload, blob: blob) }
                metrics.filesStored.increment()
                loop.reply(to: incoming, with: .stored(record: HistoryRecord.bytes(headerLine: upload.header, body: stored.utf8)))
            }
        }
    }

    /// Answers a finish that failed, and removes what the upload left.
    private func refuse<T>(_ incoming: BusIncoming, _ failed: Result<T, Error>, blobs: any BlobStore, upload: Upload, blob: String? = nil) {
        guard case .failure(let error) = failed else { return }
        logger.error("upload could not be stored", metadata: ["storage.error": "\(error)"])
        // Left to the next owner's clean-up if the partition went meanwhile, or if its lease
        // did (the bytes are the next owner's, swept once abandoned).
        if stores[upload.partition] != nil, !PostgresPartitionStore.isLeaseLost(error) {
            fileQueue.async {
                if let blob { blobs.removeBlob(blob) } else { upload.file.discard() }
            }
        }
        loop.reply(to: incoming, with: .failure("\(error)"))
    }

    private func abort(upload id: UInt64, reason: String) {
        guard let upload = uploads.removeValue(forKey: id) else { return }
        logger.info("upload abandoned; nothing kept", metadata: ["storage.reason": "\(reason)", "storage.received": "\(upload.received)"])
        // Left to the next owner's clean-up if the partition went meanwhile.
        let served = stores[upload.partition] != nil
        fileQueue.async {
            if served { upload.file.discard() } else { upload.file.close() }
        }
    }

    private func open(_ incoming: BusIncoming, partition: Int, pair: PairKey, name: String) {
        guard let writer = writers[partition], let blobs = stores[partition] else {
            return loop.reply(to: incoming, with: .failure("partition not owned"))
        }
        writer.withStore { store -> (blob: any StoredBlob, size: Int64)? in
            guard let file = try store.file(of: pair, named: name) else { return nil }
            return (try blobs.openBlob(file.blob, size: file.size), file.size)
        } completion: { [self] opened in
            switch opened {
            case .success(let file?):
                let id = nextId
                nextId += 1
                downloads[id] = Download(blob: file.blob, size: file.size, lastActivity: Self.now())
                loop.reply(to: incoming, with: .downloadReady(download: id, size: file.size, path: file.blob.localPath))
            case .success(nil):
                loop.reply(to: incoming, with: .noSuchFile)
            case .failure(let error):
                logger.error("cannot open a download", metadata: ["storage.error": "\(error)"])
                loop.reply(to: incoming, with: .failure("\(error)"))
            }
        }
    }

    private func read(_ incoming: BusIncoming, download id: UInt64, offset: Int64, length: Int) {
        guard var download = downloads[id] else { return loop.reply(to: incoming, with: .failure("no such download")) }
        // Bus fields are checked as hostile input: `size - offset` below must not overflow.
        guard (0...download.size).contains(offset) else { return loop.reply(to: incoming, with: .failure("offset out of range")) }
        download.lastActivity = Self.now()
        downloads[id] = download
        let blob = download.blob
        let length = max(0, min(length, Self.maxChunk, Int(download.size - offset)))
        fileQueue.async { [loop] in
            let result = Result { try blob.read(offset: offset, length: length) }
            loop.execute {
                switch result {
                case .success(let bytes): loop.reply(to: incoming, with: .chunk(bytes))
                case .failure(let error): loop.reply(to: incoming, with: .failure("\(error)"))
                }
            }
        }
    }

    private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}

