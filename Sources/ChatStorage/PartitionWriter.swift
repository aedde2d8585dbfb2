import ChatBus
import ChatRuntime
import Dispatch
import Foundation

/// One partition's store behind a serial queue of its own, with pipelined group commit.
///
/// A commit's cost is its fsync (milliseconds under load), and a worker owns several
/// partitions: committed one after another on the bus thread, their fsyncs would add up while
/// nothing else is read. Here each partition commits on its own queue, the partitions' fsyncs
/// overlap, and the bus loop keeps receiving; texts arriving during a commit wait for the
/// next one, so groups grow with the load.
///
/// Everything that touches the partition's SQLite connection runs on the queue, in the order
/// the loop asked for it: a read sees every append that arrived before it.
///
/// Unchecked: `waiting`, `commitsInFlight` and `onCommitted` are used on the bus loop's thread
/// only, and `store` on `queue` only (after `init`); the rest is immutable.
final class PartitionWriter: @unchecked Sendable {
    /// A text waiting for its group's commit.
    struct Append {
        let incoming: BusIncoming
        let pair: PairKey
        let record: [UInt8]
        let to: String
        let gatewayId: String
    }

    /// nil once closed: the partition's lock may go only after its last commit.
    private var store: (any PartitionHistory)?
    private let partition: Int
    private let loop: BusLoop
    private let queue: DispatchQueue
    private let metrics: StorageMetrics
    /// Stamped around each commit: one that never ends (a disk that stopped answering) makes
    /// the worker go quiet to the supervisor's health check.
    private let commitInProgress = WorkInProgress()
    /// Runs on the loop thread after each group commit, with the group and nil, or the error.
    private let onCommitted: ([Append], Error?) -> Void

    // Loop-thread state.
    private var waiting: [Append] = []
    private var commitsInFlight = 0

    init(partition: Int, store: any PartitionHistory, loop: BusLoop, metrics: StorageMetrics = StorageMetrics(),
         onCommitted: @escaping ([Append], Error?) -> Void) {
        self.store = store
        self.partition = partition
        self.loop = loop
        self.metrics = metrics
        self.onCommitted = onCommitted
        queue = DispatchQueue(label: "storage.partition-\(partition)")
    }

    /// Queues a text for the next group (loop thread).
    func append(_ append: Append) {
        waiting.append(append)
    }

    /// Starts a group commit of the waiting texts unless one is already running (loop thread,
    /// at the end of each wake-up): the next group gathers while this one syncs.
    func commitIfIdle() {
        if commitsInFlight == 0 { commitWaiting() }
    }

    /// Runs `work` on the partition's queue after every text queued so far is committed, then
    /// `completion` with its result on the loop thread (loop thread).
    func withStore<T: Sendable>(_ work: @escaping @Sendable (any PartitionHistory) throws -> T,
                                completion: @escaping @Sendable (Result<T, Error>) -> Void) {
        commitWaiting()
        afterQueued(work, completion: completion)
    }

    /// Runs `work` on the partition's queue after everything queued so far, then `completion`
    /// with its result on the loop thread. From any thread: unlike `withStore`, it does not
    /// start a commit of the texts waiting (loop-thread state).
    func afterQueued<T: Sendable>(_ work: @escaping @Sendable (any PartitionHistory) throws -> T,
                                  completion: @escaping @Sendable (Result<T, Error>) -> Void) {
        queue.async { [self] in
            let result = Result { try work(openStore()) }
            loop.execute { completion(result) }
        }
    }

    /// Commits what is waiting and waits for every commit queued so far (loop thread, as the
    /// partition is let go or the loop has stopped): their results are then queued on the loop.
    func finishCommits() {
        commitWaiting()
        queue.sync {}
    }

    /// Gives the partition up at once, its lease lost (loop thread): the texts waiting for a
    /// group are answered with `failure` now (their commit would be refused), and the store
    /// closes after the work queued so far, without waiting for it: with the database out of
    /// reach that work may take seconds to fail, and the loop must go on answering.
    func abandon(failing failure: Error) {
        let group = waiting
        waiting.removeAll()
        if !group.isEmpty { onCommitted(group, failure) }
        queue.async { [self] in store = nil }
    }

    /// Closes the store once everything queued so far has run (loop thread, after
    /// `finishCommits` and the file work): nothing of the partition is written after this, so
    /// its lock may go.
    func close() {
        queue.sync { store = nil }
    }

    struct Closed: Error, CustomStringConvertible {
        let partition: Int
        var description: String { "partition \(partition) is closed" }
    }

    /// The store, unless closed (queue only).
    private func openStore() throws -> any PartitionHistory {
        guard let store else { throw Closed(partition: partition) }
        return store
    }

    /// Starts a commit of the texts waiting now, even while one runs (loop thread): work queued
    /// after this (`afterQueued`) runs after them.
    func commitWaiting() {
        guard !waiting.isEmpty else { return }
        let group = waiting
        waiting.removeAll(keepingCapacity: true)
        commitsInFlight += 1
        queue.async { [self] in
            let failure: Error?
            let started = DispatchTime.now().uptimeNanoseconds
            commitInProgress.begin()
            defer { commitInProgress.end() }
            do {
                try openStore().append(group.map { ($0.pair, $0.record) })
                failure = nil
                metrics.textsStored.increment(by: group.count)
                metrics.groupCommitRecords.record(group.count)
            } catch {
                failure = error
            }
            metrics.commitSeconds.recordNanoseconds(DispatchTime.now().uptimeNanoseconds - started)
            loop.execute { [self] in
                commitsInFlight -= 1
                onCommitted(group, failure)
                commitIfIdle()
            }
        }
    }
}
