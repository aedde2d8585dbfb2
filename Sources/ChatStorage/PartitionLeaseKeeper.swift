import ChatBus
import ChatCrypto
import Dispatch
import Logging
import Foundation
import Postgres
import Synchronization

/// A storage worker's leases on partitions, held in PostgreSQL (`storage.backend = "postgres"`):
/// which partitions it serves, so that any worker can serve any partition and none depends on
/// its own disk.
///
/// Every second, on a queue of its own (the database may be slow or gone; the bus loop must
/// not wait for it), it says the worker is alive (`chat_storage_workers`), renews the leases
/// it holds, reads everyone's, and follows `LeaseBalance`: takes expired ones (a worker died or
/// was cut off) and lets go of its excess (workers were added). Each tick ends with a `View`
/// handed to the worker, with a store opened for each partition newly held.
///
/// Ownership is safe whatever the clocks do: a worker's every write runs `chat_hold_lease`
/// first (`PostgresPartitionStore`), which fails once another worker has taken the lease and
/// makes a taker wait for the commits under way. The local clock only makes a worker cut off
/// from the database stop serving once its leases must have run out: a watchdog on a queue
/// of its own says so even while a tick is stuck on the lost connection.
///
/// Unchecked: its mutable state is touched on `queue` only, but for the atomics.
final class PartitionLeaseKeeper: @unchecked Sendable {
    /// What the worker should serve, as of one tick.
    struct View: @unchecked Sendable {
        /// The partitions this worker holds leases on (not those it is letting go).
        let held: Set<Int>
        /// Stores opened for partitions in `held` the worker was not serving yet.
        let opened: [Int: any PartitionHistory]
        /// Partitions to let go: the worker closes them, then calls `released`.
        let release: [Int]
        /// Who serves what, from the lease table (`map(of:epoch:handedOutBy:)`); nil when the
        /// database is out of reach.
        let map: PartitionMap?
        /// Other storage workers alive (and not stopping), to take partitions over.
        var otherWorkers = 0
    }

    /// This process, as the lease table names it: unique per start, so a restarted worker is
    /// told apart from its earlier life.
    let holder: String
    private let endpoint: String
    private let url: String
    private let partitions: Int
    private let leaseMilliseconds: Int
    private let logger: Logger
    private let queue = DispatchQueue(label: "storage.leases")
    private var connection: PostgresConnection?
    /// Partitions a store was handed to the worker for, and not closed since.
    private var served: Set<Int> = []
    /// Partitions decided to be let go and not released yet: not renewed into `held`.
    private var releasing: Set<Int> = []
    /// Partitions released lately, with when (uptime nanoseconds): left to the other workers
    /// for `leaveReleasedAlone` before this one may take them again.
    private var releasedAt: [Int: UInt64] = [:]
    /// When the last renewal that reached the database was sent (uptime nanoseconds).
    private let lastRenewal: Atomic<UInt64>
    /// Whether the watchdog has told the worker to serve nothing since the last renewal.
    private let toldToServeNothing = Atomic<Bool>(false)
    private var ticks = 0
    /// Set by `retire`: no takes, nothing held.
    private var retiring = false
    private var timer: DispatchSourceTimer?
    private var watchdog: DispatchSourceTimer?
    private let onView = Mutex<(@Sendable (View) -> Void)?>(nil)

    static let tickInterval: DispatchTimeInterval = .seconds(1)
    /// How long a partition this worker let go is left for the others (uptime nanoseconds).
    static let leaveReleasedAlone: UInt64 = 3_000_000_000

    struct BadLeaseTable: Error, CustomStringConvertible {
        let description: String
    }

    /// Connects and makes sure of the schema and one lease row per partition: throws if the
    /// database cannot be used (the worker then fails to start, and is restarted).
    init(url: String, endpoint: String, partitions: Int, leaseSeconds: Int, logger: Logger) throws {
        holder = "\(SecureRandom.bytes(8).hexString)-\(getpid())"
        self.endpoint = endpoint
        self.url = url
        self.partitions = partitions
        leaseMilliseconds = leaseSeconds * 1000
        self.logger = logger
        lastRenewal = Atomic(DispatchTime.now().uptimeNanoseconds)
        // A take or renewal waiting over a second for a row lock gives up for this tick.
        let connection = try PostgresConnection(url: url, sessionSettings: PostgresConnection.defaultSessionSettings + ["SET lock_timeout = '1s'"])
        try PostgresPartitionStore.prepare(connection, partitions: partitions)
        try connection.transaction {
            try connection.query("""
                INSERT INTO chat_partition_leases (partition, endpoint, holder, expires)
                SELECT p, '', '', '-infinity' FROM generate_series(0, $1::integer - 1) AS p ON CONFLICT DO NOTHING
                """, [.integer(Int64(partitions))])
            try connection.query("INSERT INTO chat_settings (key, value) VALUES ('map_epoch', '1') ON CONFLICT DO NOTHING")
        }
        self.connection = connection
    }

    /// Ticks every second from now on, handing each tick's view to `onView` (on this keeper's
    /// queue: hand it to the loop from there). The first tick only says the worker is alive, so
    /// that workers started together count each other before they take anything.
    func start(onView: @escaping @Sendable (View) -> Void) {
        self.onView.withLock { $0 = onView }
        queue.async { [self] in
            let timer = DispatchSource.makeTimerSource(queue: queue)
            timer.schedule(deadline: .now(), repeating: Self.tickInterval)
            timer.setEventHandler { [weak self] in self?.tick() }
            timer.resume()
            self.timer = timer
            let watchdog = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "storage.leases.watchdog"))
            watchdog.schedule(deadline: .now(), repeating: .milliseconds(250))
            watchdog.setEventHandler { [weak self] in self?.watchLeaseTime() }
            watchdog.resume()
            self.watchdog = watchdog
        }
    }

    /// Past the lease time since the last renewal that reached the database, another worker
    /// may hold the leases: the worker is told to serve nothing, once, until a renewal
    /// reaches the database again. (Its writes would be refused anyway; this stops it
    /// answering for partitions it no longer holds.)
    private func watchLeaseTime() {
        let age = DispatchTime.now().uptimeNanoseconds &- lastRenewal.load(ordering: .relaxed)
        guard age > UInt64(leaseMilliseconds) * 1_000_000, !toldToServeNothing.exchange(true, ordering: .relaxed) else { return }
        logger.error("partition leases not renewed for the lease time; serving nothing until the database answers")
        onView.withLock { $0 }?(View(held: [], opened: [:], release: [], map: nil))
    }

    /// The worker stopped serving `partition` (it let it go, or lost it): a store is opened
    /// again if the lease is (still, or again) this worker's.
    func closed(_ partition: Int) {
        queue.async { [self] in served.remove(partition) }
    }

    /// The worker closed `partition`, which the view told it to let go (or could not serve):
    /// its lease is held by nobody now (so it is not renewed), for another worker to take at once.
    func released(_ partition: Int) {
        queue.async { [self] in
            served.remove(partition)
            release(partition)
        }
    }

    /// Clears this worker's lease on `partition`, and leaves it to the others for a while (queue).
    private func release(_ partition: Int) {
        defer { releasing.remove(partition) }
        releasedAt[partition] = DispatchTime.now().uptimeNanoseconds
        do {
            try database().query("""
                UPDATE chat_partition_leases SET holder = '', expires = '-infinity' WHERE partition = $1 AND holder = $2
                """, [.integer(Int64(partition)), .text(holder)])
        } catch {
            // Unreleased, it runs out within the lease time.
            logger.warning("partition lease not released", metadata: ["storage.partition": "\(partition)", "storage.error": "\(error)"])
        }
    }

    /// Stops ticking and, once the worker has closed every partition, lets its leases go and
    /// says it left, so the others take over at their next tick instead of after the lease time.
    func stop() {
        queue.sync { [self] in
            stopTimers()
            guard let connection else { return }
            do {
                try connection.query("UPDATE chat_partition_leases SET holder = '', expires = '-infinity' WHERE holder = $1", [.text(holder)])
                try connection.query("DELETE FROM chat_storage_workers WHERE holder = $1", [.text(holder)])
            } catch {
                logger.warning("partition leases not released at stop; they run out", metadata: ["storage.error": "\(error)"])
            }
        }
    }

    /// The worker is stopping, its stores closed: every lease it holds goes now, and from now
    /// on it takes none and holds none (each tick's view says so), but ticks go on, so that it
    /// sees the others take its partitions.
    func retire() {
        queue.async { [self] in
            retiring = true
            do {
                // No longer counted among the live workers: the others' shares grow at once, and
                // workers stopping together do not wait for each other to take over.
                try database().query("UPDATE chat_partition_leases SET holder = '', expires = '-infinity' WHERE holder = $1", [.text(holder)])
                try database().query("DELETE FROM chat_storage_workers WHERE holder = $1", [.text(holder)])
            } catch {
                logger.warning("partition leases not released as the worker stops; they run out", metadata: ["storage.error": "\(error)"])
            }
        }
    }

    /// Stops ticking without letting anything go: the worker stopping takes nothing more
    /// while it closes its stores (`stop` then lets its leases go); a test's frozen worker.
    func pause() {
        queue.sync { [self] in stopTimers() }
    }

    /// No more ticks, nor watching of the lease time (queue).
    private func stopTimers() {
        timer?.cancel()
        timer = nil
        watchdog?.cancel()
        watchdog = nil
    }

    private func database() throws -> PostgresConnection {
        if let connection { return connection }
        let made = try PostgresConnection(url: url)
        connection = made
        return made
    }

    private func tick() {
        let sent = DispatchTime.now().uptimeNanoseconds
        do {
            let connection = try database()
            let lease = PostgresValue.integer(Int64(leaseMilliseconds))
            if !retiring {
                try connection.query("""
                    INSERT INTO chat_storage_workers (endpoint, holder, alive_until) VALUES ($1, $2, now() + $3 * interval '1 millisecond')
                    ON CONFLICT (endpoint) DO UPDATE SET holder = excluded.holder, alive_until = excluded.alive_until
                    """, [.text(endpoint), .text(holder), lease])
            }
            // One statement: renews this worker's leases, and moves the map on if one had run
            // out meanwhile (maps handed out since gave it to their own workers; they must
            // not stay in force at this epoch).
            let renewed = retiring ? nil : try connection.query("""
                WITH mine AS (
                    SELECT partition, expires <= now() AS revived FROM chat_partition_leases WHERE holder = $1 FOR UPDATE
                ), renewed AS (
                    UPDATE chat_partition_leases l SET expires = now() + $2 * interval '1 millisecond'
                    FROM mine WHERE l.partition = mine.partition RETURNING l.partition, mine.revived
                ), moved AS (
                    UPDATE chat_settings SET value = (value::bigint + 1)::text
                    WHERE key = 'map_epoch' AND EXISTS (SELECT 1 FROM renewed WHERE revived)
                )
                SELECT partition FROM renewed
                """, [.text(holder), lease])
            lastRenewal.store(sent, ordering: .relaxed)
            toldToServeNothing.store(false, ordering: .relaxed)
            var held = Set((0..<(renewed?.count ?? 0)).map { Int(renewed!.integer($0, 0)) })
            var (leases, epoch) = try readLeases(connection)
            if retiring {
                // Its leases released (or being): nothing held, nothing taken; the map still read.
                held = []
            } else if ticks > 0 {
                let liveWorkers = Int(try connection.query("SELECT count(*) FROM chat_storage_workers WHERE alive_until > now()").integer(0, 0))
                // Let go for balance, a partition is left to the others for three ticks (they
                // take it at their next); alone, a worker has no one to leave it to.
                releasedAt = releasedAt.filter { $0.value + Self.leaveReleasedAlone > sent }
                let balance = LeaseBalance(leases: leases, liveWorkers: liveWorkers, holder: holder, endpoint: endpoint,
                                           avoiding: liveWorkers > 1 ? Set(releasedAt.keys) : [])
                var took = false
                for partition in balance.take {
                    do {
                        guard try take(partition, connection) else { continue }
                        held.insert(partition)
                        took = true
                    } catch {
                        // Its row locked past the lock timeout (its holder is mid-commit, or
                        // stuck): tried again at the next tick.
                        logger.warning("partition lease not taken", metadata: ["storage.partition": "\(partition)", "storage.error": "\(error)"])
                    }
                }
                releasing.formUnion(balance.release)
                if took { (leases, epoch) = try readLeases(connection) }
            }
            ticks += 1
            held.subtract(releasing)
            let (opened, failed) = openStores(for: held)
            // A partition this worker cannot open is not kept from the others.
            for partition in failed { release(partition) }
            let others = try connection.query("SELECT count(*) FROM chat_storage_workers WHERE alive_until > now() AND holder <> $1",
                                              [.text(holder)]).integer(0, 0)
            var view = View(held: held.subtracting(failed), opened: opened, release: releasing.sorted(),
                            map: Self.map(of: leases, epoch: epoch, handedOutBy: endpoint))
            view.otherWorkers = Int(others)
            hand(view)
        } catch {
            // The watchdog tells the worker to serve nothing once the lease time has passed.
            logger.error("partition leases not renewed", metadata: ["storage.error": "\(error)"])
        }
    }

    private func hand(_ view: View) {
        served.formUnion(view.opened.keys)
        onView.withLock { $0 }?(view)
    }

    /// Takes `partition`'s lease if it is still free (expired, or this endpoint's from an
    /// earlier life), moving the map on one epoch; false if another worker got it first.
    /// One statement, so no transaction is left open between round trips.
    private func take(_ partition: Int, _ connection: PostgresConnection) throws -> Bool {
        let taken = try connection.query("""
            WITH taken AS (
                UPDATE chat_partition_leases SET endpoint = $2, holder = $3, expires = now() + $4 * interval '1 millisecond'
                WHERE partition = $1 AND holder <> $3 AND (expires <= now() OR endpoint = $2) RETURNING 1
            ), moved AS (
                UPDATE chat_settings SET value = (value::bigint + 1)::text WHERE key = 'map_epoch' AND EXISTS (SELECT 1 FROM taken)
            )
            SELECT count(*) FROM taken
            """, [.integer(Int64(partition)), .text(endpoint), .text(holder), .integer(Int64(leaseMilliseconds))])
        guard taken.integer(0, 0) == 1 else { return false }
        logger.info("partition lease taken", metadata: ["storage.partition": "\(partition)"])
        return true
    }

    private func readLeases(_ connection: PostgresConnection) throws -> ([PartitionLease], UInt64) {
        try Self.readLeases(connection, partitions: partitions)
    }

    /// Every lease and the map's epoch, read in one statement (one snapshot).
    static func readLeases(_ connection: PostgresConnection, partitions: Int) throws -> ([PartitionLease], UInt64) {
        let rows = try connection.query("""
            SELECT l.partition, l.endpoint, l.holder, l.expires > now(), s.value::bigint
            FROM chat_partition_leases l, chat_settings s WHERE s.key = 'map_epoch' AND l.partition < $1 ORDER BY l.partition
            """, [.integer(Int64(partitions))])
        let leases = (0..<rows.count).map {
            PartitionLease(partition: Int(rows.integer($0, 0)), endpoint: rows.text($0, 1), holder: rows.text($0, 2), live: rows.integer($0, 3) != 0)
        }
        guard leases.map(\.partition) == Array(0..<partitions) else {
            throw BadLeaseTable(description: "chat_partition_leases does not hold one row per partition")
        }
        return (leases, UInt64(max(rows.count > 0 ? rows.integer(0, 4) : 1, 1)))
    }

    /// The map the leases make, as `endpoint`'s worker hands it out: each partition whose lease
    /// is live to the endpoint holding it, and each other one (its worker died, was cut off or
    /// let it go, and another takes it over within a tick or two) to `endpoint` itself, which
    /// holds its requests until it is taken and then serves them or sends them on. So a map
    /// never sends requests to a worker that is gone, only to one that answered. nil when no
    /// lease is live and `endpoint` is empty (tests). Maps of one epoch handed out by two
    /// workers differ only in the partitions without a live lease.
    static func map(of leases: [PartitionLease], epoch: UInt64, handedOutBy endpoint: String) -> PartitionMap? {
        let live = leases.filter(\.live)
        let workers = Set(live.map(\.endpoint) + [endpoint]).subtracting([""]).sorted()
        guard !workers.isEmpty else { return nil }
        let index = Dictionary(uniqueKeysWithValues: workers.enumerated().map { ($1, $0) })
        let owners = leases.map { lease in lease.live ? index[lease.endpoint]! : index[endpoint] ?? lease.partition % workers.count }
        return try? PartitionMap(epoch: epoch, workers: workers, owners: owners)
    }

    /// A store for each partition held that the worker does not serve yet, and the partitions
    /// whose store would not open (let go, for another worker to try).
    private func openStores(for held: Set<Int>) -> (opened: [Int: any PartitionHistory], failed: Set<Int>) {
        var opened: [Int: any PartitionHistory] = [:]
        var failed: Set<Int> = []
        for partition in held.subtracting(served).sorted() {
            do {
                opened[partition] = try PostgresPartitionStore(url: url, partition: partition, partitions: partitions,
                                                               leaseHolder: holder, prepare: false)
            } catch {
                logger.error("cannot open a leased partition; letting it go", metadata: [
                    "storage.partition": "\(partition)", "storage.error": "\(error)"])
                failed.insert(partition)
            }
        }
        return (opened, failed)
    }
}
