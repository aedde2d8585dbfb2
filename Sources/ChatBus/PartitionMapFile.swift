import Foundation

/// The partition map a storage worker starts from when the config's `initial` map is no longer
/// the truth: `<data_dir>/history/partition-map`, written by whoever changes the map (for now
/// an operator or a test; the supervisor, once partitions move live). JSON, so an operator
/// can read it:
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

    /// Replaces the file in one step (a reader never sees half a map), durable once this
    /// returns: a worker restarted after a crash must not find the map from before a move.
    public static func write(_ map: PartitionMap, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = [UInt8](try encoder.encode(Stored(epoch: map.epoch, workers: map.workers, owners: map.owners))) + [10]
        let temporary = "\(path).new"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Unwritable(path: temporary, reason: "cannot create (errno \(errno))") }
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        let writeError = errno
        let synced = fsync(descriptor) == 0
        let syncError = errno
        close(descriptor)
        guard written == bytes.count else { throw Unwritable(path: temporary, reason: "cannot write (errno \(writeError))") }
        guard synced else { throw Unwritable(path: temporary, reason: "cannot sync (errno \(syncError))") }
        guard rename(temporary, path) == 0 else { throw Unwritable(path: path, reason: "cannot replace (errno \(errno))") }
        let folder = open(URL(fileURLWithPath: path).deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folder >= 0 else { throw Unwritable(path: path, reason: "cannot open its folder to sync it (errno \(errno))") }
        defer { close(folder) }
        guard fsync(folder) == 0 else { throw Unwritable(path: path, reason: "cannot sync its folder (errno \(errno))") }
    }
}
