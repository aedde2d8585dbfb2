import ChatBus
import ChatProtocol

/// One partition's history and the index of its stored files, whatever keeps them: a SQLite
/// file on the worker's disk (`PartitionStore`, the embedded default) or PostgreSQL
/// (`PostgresPartitionStore`). Used from one thread at a time (the partition's writer).
protocol PartitionHistory: AnyObject {
    /// The blob and size of a stored file, by the name it was stored under.
    func file(of pair: PairKey, named name: String) throws -> (blob: String, size: Int64)?
    /// Commits a durable blob and its history record together, under the first free name of
    /// `name`, `name (2)`, `name (3)`...; returns the name used.
    func commitFile(pair: PairKey, name: String, blob: String, size: Int64, record: (String) -> [UInt8]) throws -> String
    /// Every blob a record refers to.
    func referencedBlobs() throws -> Set<String>
    /// Appends all records in one transaction: all are durable when this returns, or none.
    func append(_ records: [(pair: PairKey, record: [UInt8])]) throws
    /// The pair's history as it is now: the id of its last row (0 when it has none) and the
    /// byte count of every record up to it.
    func historySnapshot(of pair: PairKey) throws -> (through: Int64, size: Int64)
    /// The pair's rows with ids in `after+1 ... through`, oldest first, concatenated: whole
    /// rows only, as many as fit in `maxBytes`, but at least one; `last` is the last row's id.
    func historyPage(of pair: PairKey, after: Int64, through: Int64, maxBytes: Int) throws -> (last: Int64, bytes: [UInt8])
}

extension PartitionStore: PartitionHistory {}

extension PartitionHistory {
    /// The first of `name`, `name (2)`, `name (3)`... the pair has no file under (a new file
    /// never replaces one stored before).
    func firstFreeName(for name: String, pair: PairKey) throws -> String {
        var stored = name
        var copy = 1
        while try file(of: pair, named: stored) != nil {
            copy += 1
            stored = FileNames.variant(of: name, copy: copy)
        }
        return stored
    }

    /// A pair's records in one group share a row, concatenated in arrival order: a history is
    /// their concatenation anyway, and a row per pair rather than per text divides the
    /// database's work by the texts each pair sent.
    static func rowsByPair(_ records: [(pair: PairKey, record: [UInt8])]) -> [(pair: String, body: [UInt8])] {
        var rows: [(pair: String, body: [UInt8])] = []
        var rowOfPair: [String: Int] = [:]
        for (pair, record) in records {
            if let row = rowOfPair[pair.description] {
                rows[row].body.append(contentsOf: record)
            } else {
                rowOfPair[pair.description] = rows.count
                rows.append((pair.description, record))
            }
        }
        return rows
    }
}
