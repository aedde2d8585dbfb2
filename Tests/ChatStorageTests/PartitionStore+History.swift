import ChatBus
@testable import ChatStorage

extension PartitionHistory {
    /// Every record of the pair, oldest first, concatenated as the protocol sends them: read
    /// page by page up to a snapshot, as the gateway reads it.
    func history(of pair: PairKey) throws -> [UInt8] {
        let snapshot = try historySnapshot(of: pair)
        var bytes: [UInt8] = []
        var after: Int64 = 0
        while after < snapshot.through {
            let page = try historyPage(of: pair, after: after, through: snapshot.through, maxBytes: 1 << 20)
            guard page.last > after else { break }
            bytes += page.bytes
            after = page.last
        }
        return bytes
    }
}
