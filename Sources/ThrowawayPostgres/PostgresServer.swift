import CLinux
import Foundation
import Synchronization

/// A throwaway PostgreSQL server from Debian's packages (`ops/test.sh` installs them if
/// missing): a new cluster in a temporary folder, listening on a Unix socket in that folder
/// only, trusting local connections; stopped and removed when released. Run as the
/// `postgres` user when the tests run as root (initdb refuses root).
public final class PostgresServer: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible { public let description: String }

    public let folder: URL
    private let binaries: URL
    private let asPostgres: Bool

    /// The TCP address it also listens on (port 5432), if started with one.
    public let address: String?

    /// `postgresql:///DATABASE?host=FOLDER&user=postgres`, for libpq; over TCP
    /// (`postgresql://postgres@ADDRESS:5432/DATABASE`) when it listens on an address.
    public func url(database: String = "chat") -> String {
        if let address { return "postgresql://postgres@\(address):5432/\(database)" }
        return "postgresql:///\(database)?host=\(folder.path)&user=postgres"
    }

    /// The newest installed server's programs, or nil when none is installed.
    public static var installedBinaries: URL? {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        return versions.compactMap(Int.init).sorted().last.map { URL(fileURLWithPath: "/usr/lib/postgresql/\($0)/bin") }
    }

    /// Makes and starts the cluster, with a database `chat`. With `address`, it listens there
    /// too (TCP, trusting every client: for a test's network namespaces only), in `namespace`
    /// if given (`ip netns`; root only), and its URLs go over TCP.
    public init(listeningOn address: String? = nil, inNamespace namespace: String? = nil) throws {
        self.address = address
        guard let binaries = Self.installedBinaries else { throw Failure(description: "no PostgreSQL server installed (ops/test.sh installs it)") }
        self.binaries = binaries
        asPostgres = getuid() == 0
        folder = URL(fileURLWithPath: "/tmp").appendingPathComponent("chat-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // Whatever the process's umask is at this moment (another thread may have narrowed it
        // for a moment: the admin socket does), its owner must be able to enter it.
        chmod(folder.path, 0o700)
        // Known before anything can fail, so that a failed start is cleaned up too.
        Self.started.withLock { started in
            // Servers held in statics are never released: stopped when the test process exits.
            if started.isEmpty { atexit { PostgresServer.stopAll() } }
            started[folder.path] = binaries.path
        }
        if asPostgres { try Self.spawnAndWait(["/bin/chown", "postgres:postgres", folder.path]) }
        let data = folder.appendingPathComponent("data").path
        try run([binaries.appendingPathComponent("initdb").path, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                 "--no-instructions"])
        if address != nil {
            let rules = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(data)/pg_hba.conf"))
            try rules.seekToEnd()
            try rules.write(contentsOf: Data("host all all 0.0.0.0/0 trust\n".utf8))
            try rules.close()
        }
        // A Unix socket in the cluster's own folder (and the address, if any); fsync stays on
        // (the default), as in use.
        let start = [binaries.appendingPathComponent("pg_ctl").path, "-D", data, "-l", folder.appendingPathComponent("server.log").path,
                     "-o", "-c listen_addresses='\(address ?? "")' -k \(folder.path)", "-w", "start"]
        if let namespace {
            try Self.spawnAndWait(["/usr/sbin/ip", "netns", "exec", namespace] + (asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []) + start)
        } else {
            try run(start)
        }
        try run([binaries.appendingPathComponent("psql").path, "-h", folder.path, "-U", "postgres", "-d", "postgres", "-q",
                 "-c", "CREATE DATABASE chat"])
    }

    /// A new, empty database in the server, for a test of its own: its URL.
    public func newDatabase() throws -> String {
        let name = "test_\(UUID().uuidString.prefix(8).lowercased())"
        try run([binaries.appendingPathComponent("psql").path, "-h", folder.path, "-U", "postgres", "-d", "postgres", "-q",
                 "-c", "CREATE DATABASE \(name)"])
        return url(database: name)
    }

    deinit {
        if Self.started.withLock({ $0.removeValue(forKey: folder.path) }) != nil {
            Self.stop(folder: folder.path, binaries: binaries.path)
        }
    }

    /// The servers running: their folders, and their programs' folders.
    private static let started = Mutex<[String: String]>([:])

    private static func stopAll() {
        for (folder, binaries) in started.withLock({ $0 }) { stop(folder: folder, binaries: binaries) }
    }

    private static func stop(folder: String, binaries: String) {
        let asPostgres = getuid() == 0
        _ = try? spawnAndWait((asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : [])
                              + ["\(binaries)/pg_ctl", "-D", "\(folder)/data", "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Runs a command to its end (as `postgres` when the tests are root); throws with its output.
    private func run(_ command: [String]) throws {
        try Self.spawnAndWait(asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + command : command)
    }

    /// posix_spawn and waitpid rather than Foundation's `Process`, whose wait was seen to miss
    /// the exit of `pg_ctl start` (which leaves the server running as a grandchild). The child
    /// gets no descriptor of ours but its output and /dev/null: a server it leaves running
    /// would otherwise hold, for as long as it runs, whatever pipes the test process had open
    /// at that moment (a scripted client's input, whose end it then never sees).
    private static func spawnAndWait(_ arguments: [String]) throws {
        let output = "/tmp/chat-pg-run-\(UUID().uuidString)"
        defer { unlink(output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, &argv, environ)
        guard spawned == 0 else { throw Failure(description: "cannot run \(arguments[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // Exited with 0: WIFEXITED and WEXITSTATUS, which Swift does not import.
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw Failure(description: "\(arguments.joined(separator: " ")) failed (status \(status)): \((try? String(contentsOfFile: output, encoding: .utf8)) ?? "")")
        }
    }
}
