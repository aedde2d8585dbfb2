import ChatBus
@testable import ChatStorage
import ChatTestSupport
import Foundation
import Logging
import Postgres
import Synchronization
import Testing

/// Storage workers' partition leases in a real PostgreSQL server: two keepers share the
/// partitions out, one stopping (or going silent) leaves its partitions to the other, and a
/// worker whose lease was taken cannot write any more.
@Suite(.serialized) struct PartitionLeaseKeeperTests {
    static let server = Result { try PostgresServer() }

    /// The latest view each keeper handed over.
    final class Views: Sendable {
        private let latest = Mutex<PartitionLeaseKeeper.View?>(nil)
        func take(_ view: PartitionLeaseKeeper.View) { latest.withLock { $0 = view } }
        var held: Set<Int> { latest.withLock { $0?.held ?? [] } }
        var map: PartitionMap? { latest.withLock { $0?.map } }
    }

    private func keeper(_ url: String, _ endpoint: String, partitions: Int, leaseSeconds: Int = 2) throws -> (PartitionLeaseKeeper, Views) {
        let keeper = try PartitionLeaseKeeper(url: url, endpoint: endpoint, partitions: partitions, leaseSeconds: leaseSeconds,
                                              logger: Logger(label: "leases"))
        let views = Views()
        keeper.start { views.take($0) }
        return (keeper, views)
    }

    @Test func twoWorkersShareThePartitionsAndOneLeftGivesAllToTheOther() throws {
        let url = try Self.server.get().newDatabase()
        let (a, aViews) = try keeper(url, "tcp://a:1", partitions: 8)
        let (b, bViews) = try keeper(url, "tcp://b:1", partitions: 8)
        // Views settle within a tick or two of each other: each holds 4, and the map a reads
        // gives each worker what it holds.
        func owned(_ endpoint: String, in map: PartitionMap?) -> Set<Int>? {
            guard let map, let worker = map.workers.firstIndex(of: endpoint) else { return nil }
            return Set(map.partitions(ownedBy: worker))
        }
        try waitUntil("each worker holds 4 partitions, as the map says", timeout: .seconds(20)) {
            aViews.held.count == 4 && bViews.held.count == 4
                && owned("tcp://a:1", in: aViews.map) == aViews.held && owned("tcp://b:1", in: aViews.map) == bViews.held
        }
        #expect(aViews.held.isDisjoint(with: bViews.held))
        a.stop()
        try waitUntil("b holds every partition", timeout: .seconds(10)) { bViews.held.count == 8 }
        b.stop()
    }

    @Test func aSilentWorkersLeasesRunOutAndAreTakenOver() throws {
        let url = try Self.server.get().newDatabase()
        let (a, aViews) = try keeper(url, "tcp://a:1", partitions: 4)
        try waitUntil("a holds every partition", timeout: .seconds(10)) { aViews.held.count == 4 }
        // a's store of partition 0, fenced by a's lease.
        let store = try PostgresPartitionStore(url: url, partition: 0, partitions: 4, leaseHolder: a.holder, prepare: false)
        try store.append([(PairKey("1", "2"), Array("before\n".utf8))])
        // a goes silent (its process frozen, its network cut): it stops renewing, without
        // letting go. b comes, and takes a's partitions once their leases run out.
        a.pause()
        let (b, bViews) = try keeper(url, "tcp://b:1", partitions: 4)
        try waitUntil("b holds every partition", timeout: .seconds(15)) { bViews.held.count == 4 }
        let refused = try #require(throws: PostgresError.self) {
            try store.append([(PairKey("1", "2"), Array("after the takeover\n".utf8))])
        }
        #expect(refused.sqlState == "CH001", "\(refused)")
        let rows = try PostgresConnection(url: url).query("SELECT count(*) FROM chat_records WHERE partition = 0").integer(0, 0)
        #expect(rows == 1, "the fenced write left nothing")
        b.stop()
    }
}
