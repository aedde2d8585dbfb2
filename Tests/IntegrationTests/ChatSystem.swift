import ChatBenchmark
import ChatBus
import ChatRuntime
import ChatTestSupport
import Foundation
import Synchronization

/// The real system as a user starts it: `chatd` (the supervisor) with its children, on free
/// loopback ports and a temporary data folder, with a low scrypt cost so tests run fast.
final class ChatSystem: Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Shared by the protocol tests, which use distinct uids; stopped when the test process ends.
    static let shared: ChatSystem = {
        do { return try ChatSystem() } catch { fatalError("could not start the chat system: \(error)") }
    }()

    /// Where a system keeps accounts, histories and files: the embedded default, or a database
    /// of the tests' PostgreSQL server. The suites of the protocol's core run on both.
    enum Backend: String, CaseIterable, Sendable {
        case sqlite, postgres

        /// One server for the test process; each system a database of its own.
        static let server = Result { try PostgresServer() }

        /// The settings that put a new system on this backend.
        func settings() throws -> [String] {
            guard self == .postgres else { return [] }
            return SystemUnderTest.postgresSettings(url: try Self.server.get().newDatabase())
        }
    }

    /// `shared` on PostgreSQL.
    static let sharedOnPostgres: ChatSystem = {
        do { return try ChatSystem(settings: try Backend.postgres.settings()) } catch { fatalError("could not start the chat system: \(error)") }
    }()

    static func shared(_ backend: Backend) -> ChatSystem { backend == .postgres ? sharedOnPostgres : shared }

    let port: Int
    let authEndpoint: String
    let routerEndpoint: String
    /// Where each storage worker binds, in worker order.
    let storageEndpoints: [String]
    let dataDirectory: URL
    let logFile: URL
    /// The config file the system was started with (`--config`), if any; `rewriteConfig` changes it.
    let configFile: URL?
    /// The running supervisor; a restart replaces it.
    var supervisor: Process { currentSupervisor.withLock { $0 } }
    private let currentSupervisor = Mutex(Process())
    private let arguments: [String]
    private let descriptorLimit: String?
    /// What every process of this system is started with, whatever its role or port.
    /// The data folder and configuration every process of the system runs with.
    let sharedArguments: [String]

    static var binaries: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    }

    /// `settings` are extra `key=value` overrides. `config`: the text of a config file to start
    /// with, which then sets the log level (no `--set` overrides it). `beforeStart` gets the
    /// storage endpoints and the data folder before anything starts, to put files there that
    /// depend on the endpoints (a partition map).
    /// `configuredStorageWorkers`: with `config`, the storage workers are named in the file
    /// (`storage.endpoints`, the first that many of the `storageWorkers` endpoints made), not by
    /// `--set`, so that rewriting the file (`LocalPorts.storageConfig`) can add or remove some.
    /// `descriptorLimit`: `soft:hard` open files for the supervisor from its start (`prlimit`),
    /// which its children inherit.
    init(settings: [String] = [], config: String? = nil, dataDirectory: URL? = nil, storageWorkers: Int = 2,
         configuredStorageWorkers: Int? = nil, descriptorLimit: String? = nil,
         beforeStart: (_ storageEndpoints: [String], _ dataDirectory: URL) throws -> Void = { _, _ in }) throws {
        let ports = try LocalPorts.free(3 + storageWorkers)
        port = ports[0]
        authEndpoint = "tcp://127.0.0.1:\(ports[1])"
        routerEndpoint = "tcp://127.0.0.1:\(ports[2])"
        let storageEndpoints = ports[3...].map { "tcp://127.0.0.1:\($0)" }
        self.storageEndpoints = storageEndpoints
        self.dataDirectory = dataDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("chat-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.dataDirectory, withIntermediateDirectories: true)
        logFile = self.dataDirectory.appendingPathComponent("chatd-\(UUID().uuidString.prefix(8)).log")
        var shared = ["--data-dir", self.dataDirectory.path]
            + LocalPorts.internalEndpointSettings(Array(ports.dropFirst()), storageInConfigFile: configuredStorageWorkers != nil)
        if let config {
            let file = self.dataDirectory.appendingPathComponent("chatd.toml")
            let storage = configuredStorageWorkers.map { "\n" + LocalPorts.storageConfig(Array(storageEndpoints.prefix($0))) } ?? ""
            try (config + storage).write(to: file, atomically: true, encoding: .utf8)
            configFile = file
            shared += ["--config", file.path]
        } else {
            configFile = nil
            shared += ["--set", "log_level=\"info\""]
        }
        shared += ["--set", "auth.scrypt_n=16",
                   "--set", "bus.request_timeout_ms=2000",
                   // Every test connects from 127.0.0.1, many at once, some failing sign-ins on
                   // purpose, and signs up as many users as it likes: no per-address limits in
                   // auth unless a test sets them (FailedSignInLimitTests, SignUpsPerAddressTests).
                   "--set", "auth.max_hashes_per_address=100000",
                   "--set", "auth.free_failed_sign_ins_per_address=1000000000",
                   "--set", "auth.free_sign_ups_per_address=0"]
        for setting in settings { shared += ["--set", setting] }
        sharedArguments = shared
        arguments = shared + ["--port", String(port), "--exit-with-parent", String(getpid())]
        self.descriptorLimit = descriptorLimit
        try beforeStart(storageEndpoints, self.dataDirectory)
        try launch()
    }

    private func launch() throws {
        let started = try Self.chatd(arguments, loggingTo: logFile, descriptorLimit: descriptorLimit)
        currentSupervisor.withLock { $0 = started }
        try waitUntilReady()
    }

    /// `chatd` started with `arguments`, its output appended to `logFile`.
    private static func chatd(_ arguments: [String], loggingTo logFile: URL, descriptorLimit: String? = nil) throws -> Process {
        let process = Process()
        let chatd = binaries.appendingPathComponent("chatd")
        if let descriptorLimit {
            // bash (dash opens no descriptor past 9) execs prlimit, which execs chatd: the pid is the supervisor's. On the way
            // it opens descriptor 900 (not close-on-exec), past the limit, as a parent with many
            // open may leave one: the supervisor must close it, or start no worker (a test
            // process opening sockets on other threads while Foundation spawns leaked such
            // descriptors now and then, and every spawn then failed with EBADF).
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-c", "exec 900</dev/null; exec \"$@\"", "sh",
                                 "/usr/bin/prlimit", "--nofile=\(descriptorLimit)", "--", chatd.path] + arguments
        } else {
            process.executableURL = chatd
            process.arguments = arguments
        }
        // Appending, so the processes sharing the log (an extra gateway beside the supervisor
        // and its children) do not write over each other's lines.
        let descriptor = open(logFile.path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard descriptor >= 0 else { throw Failure(description: "cannot open \(logFile.path): errno \(errno)") }
        let log = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        process.standardOutput = log
        process.standardError = log
        // It watches this process (--exit-with-parent, --parent-pid): started from a thread that
        // never exits, or it would stop when the test's thread does.
        try ProcessLauncher.shared.launch(process)
        return process
    }

    /// Ready when a probe user can sign up, sign in and read its history: gateway, auth,
    /// router and storage (the worker owning the probe's own pair) all answer.
    func waitUntilReady(timeout: Duration = .seconds(30)) throws {
        var signedIn: TestClient?
        try waitUntil("the system to answer on port \(port); log:\n\(log)", timeout: timeout, interval: .milliseconds(100)) {
            guard supervisor.isRunning else {
                throw Failure(description: "chatd exited (status \(supervisor.terminationStatus)); log:\n\(log)")
            }
            guard let client = signedIn ?? signedInProbe() else { return false }
            switch try? client.ask("000000 history 000000 all", timeout: 3) {
            case "you two have no history yet": return true
            case nil: signedIn = nil   // closed or silent: start over on a new connection
            default: signedIn = client   // storage not there yet: ask again
            }
            return false
        }
    }

    /// A new connection signed in as the probe user, or nil while the system does not answer.
    private func signedInProbe() -> TestClient? {
        guard let client = try? TestClient(port: port),
              let signUp = try? client.ask("signup 000000 probe", timeout: 3),
              ["signup successfully", "uid already exists"].contains(signUp),
              (try? client.ask("signin 000000 probe", timeout: 3)) == "signin successfully" else { return nil }
        return client
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// The pid of a running child: `auth`, `router`, `gateway` or `storage` with its index.
    func childPID(_ role: String, index: Int? = nil) -> Int32? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry), Self.parent(of: pid) == supervisor.processIdentifier else { continue }
            guard let raw = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { continue }
            let arguments = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard arguments.count > 1, arguments[1] == role else { continue }
            if let index, !(arguments.firstIndex(of: "--index").map { arguments[$0 + 1] == String(index) } ?? false) { continue }
            return pid
        }
        return nil
    }

    /// Every process the supervisor runs now, each storage worker among them.
    var childPIDs: [Int32] { Self.children(of: supervisor.processIdentifier) }

    /// The processes whose parent is `pid`.
    static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { parent(of: $0) == pid }
    }

    /// The parent of `pid` from /proc, nil once it is gone.
    static func parent(of pid: Int32) -> Int32? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        // After the command name, which may hold spaces but ends with the last ')': state, then parent.
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        return fields.count > 2 ? Int32(fields[1]) : nil
    }

    /// True once `pid` has exited, whether or not its new parent has reaped it yet.
    static func hasExited(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        return fields.first == "Z" || fields.first == "X"
    }

    /// SIGKILLs a child and waits for the supervisor to have started a new one.
    func killAndAwaitRestart(_ role: String, index: Int? = nil, timeout: Duration = .seconds(20)) throws -> Int32 {
        guard let old = childPID(role, index: index) else { throw Failure(description: "no \(role) running") }
        kill(old, SIGKILL)
        var new: Int32?
        try waitUntil("a new \(role) after killing pid \(old); log:\n\(log)", timeout: timeout) {
            new = childPID(role, index: index).flatMap { $0 == old ? nil : $0 }
            return new != nil
        }
        return new!
    }

    /// SIGTERM to the supervisor, as an operator stops it; true if it and its children exited.
    /// A supervisor still running after `timeout` is SIGKILLed (false).
    @discardableResult
    func stop(timeout: Duration = .seconds(20)) -> Bool {
        let children = childPIDs
        guard supervisor.stop(with: SIGTERM, within: timeout) else { return false }
        return children.allSatisfy(Self.hasExited)
    }

    /// A second gateway on a port of its own, sharing this system's auth, router and storage,
    /// started as an operator would start one on another machine (`chatd gateway`). The
    /// supervisor does not know it: the caller stops it.
    func startExtraGateway() throws -> (process: Process, port: Int) {
        let port = try LocalPorts.free(1)[0]
        let gateway = try Self.chatd(["gateway"] + sharedArguments + ["--port", String(port), "--parent-pid", String(getpid())],
                                     loggingTo: logFile)
        // A user only this system knows: a sign-in on the port proves it is our gateway there.
        let probe = try registeredUser()
        do {
            try waitUntil("the extra gateway to answer on port \(port); log:\n\(self.log)", timeout: .seconds(30), interval: .milliseconds(100)) {
                guard gateway.isRunning else { throw Failure(description: "the extra gateway exited; log:\n\(self.log)") }
                guard let client = try? TestClient(port: port) else { return false }
                return (try? client.ask("signin \(probe) pw", timeout: 3)) == "signin successfully"
            }
        } catch {
            gateway.stop(with: SIGKILL, within: .seconds(10))
            throw error
        }
        return (gateway, port)
    }

    /// A storage worker started by hand (`chatd storage --index N`) on this system's data
    /// folder and router, with its own `storage.endpoints` list (`endpoints`, which it binds the
    /// `index`th of), as an operator might by mistake. The supervisor does not know it: the
    /// caller stops it.
    func startExtraStorageWorker(index: Int, endpoints: [String]) throws -> Process {
        let list = "storage.endpoints=[\(endpoints.map { "\"\($0)\"" }.joined(separator: ","))]"
        let arguments = sharedArguments.map { $0.hasPrefix("storage.endpoints=") ? list : $0 }
        return try Self.chatd(["storage", "--index", String(index)] + arguments + ["--parent-pid", String(getpid())],
                              loggingTo: logFile)
    }

    /// Starts the same system again on the same ports and data.
    func restart() throws {
        try launch()
    }

    /// Replaces the config file's text; the system reads it on its next reload.
    func rewriteConfig(_ text: String) throws {
        guard let configFile else { throw Failure(description: "started without a config file") }
        try text.write(to: configFile, atomically: true, encoding: .utf8)
    }

    func removeData() { try? FileManager.default.removeItem(at: dataDirectory) }

    /// What a bus client of this system needs: its CurveZMQ key, once the supervisor made it
    /// (no key file: `bus.curve` is off).
    var busSecurity: BusSecurity {
        (try? BusSecurity.load(curve: true, dataDirectory: dataDirectory.path)) ?? .none
    }

    /// A new user, signed up and signed in on a new connection.
    func signedInUser() throws -> (TestClient, String) {
        let client = try TestClient(port: port), uid = TestUIDs.make()
        try client.signUpAndIn(uid)
        return (client, uid)
    }

    /// A new user, signed up, never signed in: reliably offline.
    func registeredUser() throws -> String {
        let uid = TestUIDs.make()
        try TestClient(port: port).ask("signup \(uid) pw").ensure("signup successfully")
        return uid
    }

}

/// Unique uids per test, so tests sharing one system never collide.
enum TestUIDs {
    private static let last = Atomic<Int>(100_000 + Int(getpid() % 1000) * 100)

    static func make() -> String {
        let next = last.add(1, ordering: .relaxed).newValue
        return String(format: "%06d", next % 1_000_000)
    }
}
