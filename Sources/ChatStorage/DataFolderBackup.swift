import Foundation
import SQLite

/// `chatd backup`: a copy of a data folder, taken while the system runs, that chatd can start
/// on as it is.
///
/// Each database is copied with SQLite's backup API, as one committed state of its own. The
/// partitions go first and auth last, so every conversation in the copy belongs to accounts
/// the copy has. A stored file's bytes are durable before its record commits (BlobFolder's
/// `makeDurable`) and never change after, so the files to copy are exactly those the copied
/// partitions refer to; the rest are uploads in progress or a crash's leftovers, which
/// storage removes at start anyway.
public struct DataFolderBackup {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public struct Summary: Sendable {
        public var databases = 0
        public var files = 0
        public var fileBytes: Int64 = 0
    }

    let source: String
    let destination: String
    private let manager = FileManager.default

    public init(dataDirectory: String, destination: String) {
        source = dataDirectory
        self.destination = destination
    }

    public func run() throws -> Summary {
        try prepareDestination()
        var summary = Summary()
        let databases = try sourceDatabases()
        if manager.fileExists(atPath: "\(source)/history/PARTITIONS") {
            try makeFolder(for: "history/PARTITIONS")
            try copyFile("history/PARTITIONS")
        }
        for database in databases {
            try makeFolder(for: database)
            try Database(path: "\(source)/\(database)", create: false).backUp(to: "\(destination)/\(database)")
            summary.databases += 1
            if let partition = Self.partition(of: database) {
                try copyFiles(of: partition, referencedIn: "\(destination)/\(database)", into: &summary)
            }
        }
        try syncFolders()
        return summary
    }

    /// A new folder, or an empty one: a backup never mixes with, or overwrites, anything.
    private func prepareDestination() throws {
        var isFolder: ObjCBool = false
        if manager.fileExists(atPath: destination, isDirectory: &isFolder) {
            guard isFolder.boolValue, try manager.contentsOfDirectory(atPath: destination).isEmpty else {
                throw Failure(description: "\(destination) is not an empty folder; a backup goes into a new one")
            }
        } else {
            // Owner only: the copy holds password hashes and everyone's history.
            try manager.createDirectory(atPath: destination, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
    }

    /// Every `*.sqlite` file under the data folder, relative to it: history partitions first.
    private func sourceDatabases() throws -> [String] {
        guard let walk = manager.enumerator(atPath: source) else { throw Failure(description: "cannot read \(source)") }
        var found: [String] = []
        while let path = walk.nextObject() as? String {
            if path == "files" { walk.skipDescendants() }
            if path.hasSuffix(".sqlite") { found.append(path) }
        }
        guard !found.isEmpty else { throw Failure(description: "\(source) holds no chatd databases") }
        return found.sorted { ($0.hasPrefix("history/") ? 0 : 1, $0) < ($1.hasPrefix("history/") ? 0 : 1, $1) }
    }

    /// N for `history/partition-N.sqlite`.
    static func partition(of database: String) -> Int? {
        guard database.hasPrefix("history/partition-"), database.hasSuffix(".sqlite") else { return nil }
        return Int(database.dropFirst("history/partition-".count).dropLast(".sqlite".count))
    }

    private func copyFiles(of partition: Int, referencedIn copy: String, into summary: inout Summary) throws {
        let blobs = try PartitionStore(path: copy).referencedBlobs()
        guard !blobs.isEmpty else { return }
        let folder = BlobFolder.path(root: "files", partition: partition)
        try manager.createDirectory(atPath: "\(destination)/\(folder)", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for blob in blobs.sorted() {
            summary.fileBytes += try copyFile("\(folder)/\(blob)")
            summary.files += 1
        }
    }

    /// Copies `path` (relative to both folders) and fsyncs the copy; returns its size.
    @discardableResult
    private func copyFile(_ path: String) throws -> Int64 {
        let target = "\(destination)/\(path)"
        do {
            try manager.copyItem(atPath: "\(source)/\(path)", toPath: target)
        } catch {
            throw Failure(description: "cannot copy \(source)/\(path): \(error.localizedDescription)")
        }
        try Self.sync(target)
        return (try manager.attributesOfItem(atPath: target)[.size] as? Int64) ?? 0
    }

    private func makeFolder(for path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        guard !folder.isEmpty else { return }
        try manager.createDirectory(atPath: "\(destination)/\(folder)", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// Every folder of the copy, so the names of the files in them survive a power cut too.
    private func syncFolders() throws {
        var folders = [destination]
        let walk = manager.enumerator(atPath: destination)
        while let path = walk?.nextObject() as? String {
            var isFolder: ObjCBool = false
            if manager.fileExists(atPath: "\(destination)/\(path)", isDirectory: &isFolder), isFolder.boolValue {
                folders.append("\(destination)/\(path)")
            }
        }
        for folder in folders { try Self.sync(folder) }
    }

    private static func sync(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw Failure(description: "fsync \(path): \(String(cString: strerror(errno)))") }
    }
}
