/// Which storage partition holds a pair.
///
/// The hash is FNV-1a over `low-high`, finished with MurmurHash3's 64-bit mixer: stable
/// across processes and machines, unlike Swift's seeded `Hasher`. The mixer matters: FNV-1a's
/// low bits alone follow the digits' parities, and pairs like `500000-500001` all landed on
/// odd partitions without it. The partition count is fixed for the life of a data folder; which
/// worker owns a partition is the `PartitionMap`'s business, and may change.
public struct Partitioning: Equatable, Sendable {
    public let partitionCount: Int

    public init(partitionCount: Int) {
        precondition(partitionCount > 0)
        self.partitionCount = partitionCount
    }

    public func partition(of pair: PairKey) -> Int {
        Int(Self.mix(Self.fnv1a(pair.description.utf8)) % UInt64(partitionCount))
    }

    /// MurmurHash3's fmix64: every input bit affects every output bit.
    static func mix(_ value: UInt64) -> UInt64 {
        var hash = value
        hash ^= hash >> 33
        hash = hash &* 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        hash = hash &* 0xc4ce_b9fe_1a85_ec53
        hash ^= hash >> 33
        return hash
    }

    static func fnv1a<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
