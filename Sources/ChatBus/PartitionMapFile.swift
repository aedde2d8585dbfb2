import Foundation

/// The partition map a storage worker starts from when the config's `initial` map is no longer
/// the truth: `<data_dir>/history/partition-map`, written by whoever changes the map (the
/// supervisor when workers are added or removed, `chatd partitions --move`), each through
/// `update`. JSON, so an operator can read it:
/// `{"epoch": 2, "workers": ["tcp://...", ...], "owners": [1, 0, ...]}`.
public enum PartitionMapFile {
    public static func path(inHistoryFolder folder: String) -> String { "\(folder)/partition-map" }

    /// Why the file cannot be used; a worker refuses to start rather than guess owners.
    public struct Unreadable: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "partition map \(path): \(reason)" }
    }

    /// Why the file could not be written whole and durable.
    public struct Unwritable: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "partition map \(path): \(reason)" }
    }

    private struct Stored: Codable {
        var epoch: UInt64
        var workers: [String]
        var owners: [Int]
    }

    /// The map in the file, or nil when there is no file.
    public static func read(from path: String) throws -> PartitionMap? {
        guard let data = FileManager.default.contents(atPath: path) else {
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            throw Unreadable(path: path, reason: "cannot be read")
        }
        let stored: Stored
        do {
            stored = try JSONDecoder().decode(Stored.self, from: data)
        } catch {
            throw Unreadable(path: path, reason: "not a partition map (\(error))")
        }
        do {
            return try PartitionMap(epoch: stored.epoch, workers: stored.workers, owners: stored.owners)
        } catch {
            throw Unreadable(path: path, reason: error.description)
        }
    }

    /// Reads the map in force (the file's, else `initial`), and writes what `change` makes of
    /// it (nil: nothing), holding `<path>.lock` throughout: two writers (a scaling reload and
    /// an operator's move) never base a map on one the other is replacing. Returns the map
    /// in force before, and the one written if any.
    @discardableResult
    public static func update(at path: String, initial: () -> PartitionMap,
                              _ change: (PartitionMap) throws -> PartitionMap?) throws -> (before: PartitionMap, written: PartitionMap?) {
        let lockPath = "\(path).lock"
        let lock = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lock >= 0 else { throw Unwritable(path: lockPath, reason: "cannot open (errno \(errno))") }
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 {
            guard errno == EINTR else { throw Unwritable(path: lockPath, reason: "cannot lock (errno \(errno))") }
        }
        let before = try read(from: path) ?? initial()
        guard let next = try change(before) else { return (before, nil) }
        try write(next, to: path)
        return (before, next)
    }

    /// Replaces the file in one step (a reader never sees half a map), durable once this
    /// returns: a worker restarted after a crash must not find the map from before a move.
    public static func write(_ map: PartitionMap, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = [UInt8](try encoder.encode(Stored(epoch: map.epoch, workers: map.workers, owners: map.owners))) + [10]
        do {
            // Its own name per process: a writer outside `update` truncates no one else's.
            let temporary = try DurableFile.writeTemporary(bytes, beside: path, mode: 0o644)
            guard rename(temporary, path) == 0 else {
                let error = errno
                unlink(temporary)
                throw Unwritable(path: path, reason: "cannot replace (errno \(error))")
            }
            try DurableFile.syncFolder(of: path)
        } catch let failure as DurableFile.Failure {
            throw Unwritable(path: path, reason: failure.description)
        }
    }
}
