import ChatBus
@testable import ChatStorage
import ChatTestSupport
import Foundation
import Postgres
import SQLite
import Testing

/// A partition's history, with each backend: a SQLite file (the embedded default) and
/// PostgreSQL (a throwaway server): group appends, histories and file records.
@Suite struct PartitionStoreTests {
    enum Backend: CaseIterable { case sqlite, postgres }

    /// One PostgreSQL server for every test of the suite; each test its own partition.
    static let postgres = Result { try PostgresServer() }

    private let folder = FileManager.default.temporaryDirectory.appendingPathComponent("partition-store-\(UUID())").path

    /// `body` with a new, empty partition in `backend`, and a way to count its rows.
    private func withStore(_ backend: Backend, _ body: (any PartitionHistory, _ rowCount: () throws -> Int64) throws -> Void) throws {
        switch backend {
        case .sqlite:
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let path = "\(folder)/partition-0.sqlite"
            try body(try PartitionStore(path: path)) {
                let statement = try Database(path: path).prepare("SELECT count(*) FROM records")
                _ = try statement.bind().step()
                return statement.int(at: 0)
            }
        case .postgres:
            let url = try Self.postgres.get().url()
            let partition = Int.random(in: 0..<1_000_000_000)
            try body(try PostgresPartitionStore(url: url, partition: partition, partitions: 1_000_000_000)) {
                try PostgresConnection(url: url).query("SELECT count(*) FROM chat_records WHERE partition = $1", [.integer(Int64(partition))])
                    .integer(0, 0)
            }
        }
    }

    @Test(arguments: Backend.allCases) func interleavedPairsKeepTheirOwnOrderAcrossGroups(_ backend: Backend) throws {
        try withStore(backend) { store, rowCount in
            let alice = PairKey("100001", "100002"), bob = PairKey("100003", "100004")
            var expected: [PairKey: String] = [:]
            for group in 0..<3 {
                var records: [(pair: PairKey, record: [UInt8])] = []
                for index in 0..<10 {
                    let pair = index.isMultiple(of: 3) ? bob : alice
                    let text = "g\(group) m\(index)\n"
                    records.append((pair, Array(text.utf8)))
                    expected[pair, default: ""] += text
                }
                try store.append(records)
            }
            #expect(String(decoding: try store.history(of: alice), as: UTF8.self) == expected[alice])
            #expect(String(decoding: try store.history(of: bob), as: UTF8.self) == expected[bob])
            #expect(try store.historySnapshot(of: alice).size == Int64(expected[alice]!.utf8.count))
            // One row per pair per group, not one per text.
            #expect(try rowCount() == 6)
        }
    }

    @Test(arguments: Backend.allCases) func aFileRecordLandsAfterTheTextsBeforeIt(_ backend: Backend) throws {
        try withStore(backend) { store, _ in
            let pair = PairKey("100001", "100002")
            try store.append([(pair, Array("text\n".utf8))])
            let stored = try store.commitFile(pair: pair, name: "a.txt", blob: "blob1", size: 3) { Array("header\n\($0)\n".utf8) }
            let again = try store.commitFile(pair: pair, name: "a.txt", blob: "blob2", size: 3) { Array("header\n\($0)\n".utf8) }
            try store.append([(pair, Array("later\n".utf8))])
            #expect(stored == "a.txt")
            #expect(again == "a (2).txt")
            #expect(String(decoding: try store.history(of: pair), as: UTF8.self) == "text\nheader\na.txt\nheader\na (2).txt\nlater\n")
        }
    }

    @Test(arguments: Backend.allCases) func aHistoryIsReadInPagesOfWholeRowsUpToItsSnapshot(_ backend: Backend) throws {
        try withStore(backend) { store, _ in
            let pair = PairKey("100001", "100002"), other = PairKey("100003", "100004")
            // Rows of 9 bytes for the pair, another pair's rows in between.
            for index in 0..<7 {
                try store.append([(pair, Array("record \(index)\n".utf8)), (other, Array("elsewhere\n".utf8))])
            }
            let snapshot = try store.historySnapshot(of: pair)
            #expect(snapshot.size == 63)
            // Appended after the snapshot: not part of this read.
            try store.append([(pair, Array("too late\n".utf8))])

            var pages: [[UInt8]] = []
            var after: Int64 = 0
            while after < snapshot.through {
                let page = try store.historyPage(of: pair, after: after, through: snapshot.through, maxBytes: 25)
                #expect(page.last > after)
                pages.append(page.bytes)
                after = page.last
            }
            #expect(pages.map(\.count) == [18, 18, 18, 9])
            #expect(String(decoding: pages.joined(), as: UTF8.self) == (0..<7).map { "record \($0)\n" }.joined())
            #expect(try store.historyPage(of: pair, after: snapshot.through, through: snapshot.through, maxBytes: 25).bytes.isEmpty)
        }
    }

    @Test(arguments: Backend.allCases) func aRowLargerThanAPageStillGoesWhole(_ backend: Backend) throws {
        try withStore(backend) { store, _ in
            let pair = PairKey("100001", "100002")
            let big = [UInt8](repeating: 0x61, count: 100) + [0x0a]
            try store.append([(pair, big)])
            try store.append([(pair, Array("small\n".utf8))])
            let snapshot = try store.historySnapshot(of: pair)
            let first = try store.historyPage(of: pair, after: 0, through: snapshot.through, maxBytes: 10)
            #expect(first.bytes == big)
            let second = try store.historyPage(of: pair, after: first.last, through: snapshot.through, maxBytes: 10)
            #expect(second.bytes == Array("small\n".utf8))
            #expect(second.last == snapshot.through)
        }
    }

    @Test(arguments: Backend.allCases) func aPairWithNoHistoryHasAnEmptySnapshot(_ backend: Backend) throws {
        try withStore(backend) { store, _ in
            try store.append([(PairKey("100003", "100004"), Array("elsewhere\n".utf8))])
            let snapshot = try store.historySnapshot(of: PairKey("100001", "100002"))
            #expect(snapshot.through == 0)
            #expect(snapshot.size == 0)
        }
    }

    /// The partition count is the database's once recorded, as the data folder's is.
    @Test func aDatabaseRefusesAnotherPartitionCount() throws {
        let url = try Self.postgres.get().newDatabase()
        _ = try PostgresPartitionStore(url: url, partition: 0, partitions: 16)
        _ = try PostgresPartitionStore(url: url, partition: 1, partitions: 16)
        let error = try #require(throws: PostgresPartitionStore.PartitionCountChanged.self) {
            try PostgresPartitionStore(url: url, partition: 0, partitions: 32)
        }
        #expect(error.description.contains("storage.partitions is 32 but the PostgreSQL database was made with 16"))
    }
}
