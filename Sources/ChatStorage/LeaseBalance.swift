/// One row of `chat_partition_leases`, as a storage worker reads it.
struct PartitionLease: Equatable, Sendable {
    let partition: Int
    /// The endpoint of the worker that took it last; empty if no worker ever did.
    let endpoint: String
    /// The process that took it last (`PartitionLeaseKeeper.holder`); empty if none did.
    let holder: String
    /// Whether it has not expired (it was renewed within the lease time).
    let live: Bool
}

/// What one storage worker does with the partitions' leases at a tick, from what it read: pure,
/// so every worker, deciding alone, steers the same way. Each live worker aims at its share,
/// ⌊P/n⌋ or ⌈P/n⌉ of P partitions among n live workers:
/// - a partition its own endpoint held in an earlier life (the worker restarted) is taken back
///   at once, not after the lease runs out;
/// - one whose lease expired (its worker died, was cut off, or let it go) is taken while the
///   worker is under ⌈P/n⌉;
/// - past ⌈P/n⌉ (workers were added), the excess is let go for the others to take; when no one
///   is past it but a worker is below ⌊P/n⌋ with nothing free to take, each worker past ⌊P/n⌋
///   lets one go.
/// Two workers may choose the same free partition: the database gives it to one, and the
/// other takes another at the next tick.
struct LeaseBalance: Equatable {
    var take: [Int] = []
    var release: [Int] = []

    /// `liveWorkers`: workers that have said they are alive lately, this one included.
    /// `avoiding`: partitions this worker let go of lately, left for the others to take (taken
    /// back at once, a partition let go for balance would go round in circles).
    init(leases: [PartitionLease], liveWorkers: Int, holder: String, endpoint: String, avoiding: Set<Int> = []) {
        let partitions = leases.count
        guard partitions > 0 else { return }
        let workers = max(liveWorkers, 1)
        let (floor, remainder) = partitions.quotientAndRemainder(dividingBy: workers)
        let ceiling = floor + (remainder > 0 ? 1 : 0)
        let mine = leases.filter { $0.holder == holder }.map(\.partition)
        let isEarlierLife = { (lease: PartitionLease) in lease.holder != holder && !lease.holder.isEmpty && lease.endpoint == endpoint }
        let earlierLife = leases.filter(isEarlierLife).map(\.partition)
        // Starting from a point of the ring that depends on the holder, so that workers
        // starting together reach for different partitions first.
        let start = Int(Self.ringPosition(of: holder) % UInt64(partitions))
        let free = leases.indices.map { (start + $0) % partitions }
            .filter { !leases[$0].live && leases[$0].holder != holder && !isEarlierLife(leases[$0]) && !avoiding.contains($0) }
        take = earlierLife
        let holding = mine.count + earlierLife.count
        if holding > ceiling {
            release = Array(mine.sorted().suffix(holding - ceiling))
            return
        }
        take += free.prefix(ceiling - holding)
        guard free.isEmpty, floor > 0, holding > floor else { return }
        var held: [String: Int] = [:]
        for lease in leases where lease.live && !lease.holder.isEmpty { held[lease.holder, default: 0] += 1 }
        // Workers over the ceiling are letting go already; otherwise, one below the floor (or
        // holding nothing) gets one from each worker above it.
        guard held.values.allSatisfy({ $0 <= ceiling }) else { return }
        let atFloorOrMore = held.values.filter { $0 >= floor }.count
        if workers > atFloorOrMore, let last = mine.max() { release = [last] }
    }

    /// FNV-1a: stable across processes and runs (Swift's `hashValue` is seeded per process).
    static func ringPosition(of holder: String) -> UInt64 {
        holder.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }
}
