import ChatRuntime
import Foundation

/// A chat system the benchmark starts itself, as users start it (`chatd`, the supervisor), on
/// free loopback ports with a temporary data folder; stopped with SIGTERM when done.
public final class SystemUnderTest {
    public let port: Int
    /// The TLS port and the self-signed certificate it serves, when started with `tls`.
    public let tls: (port: Int, certificate: String)?
    private let process = Process()
    private let dataDirectory: URL

    /// What every benchmark run changes from the defaults, and why: a low scrypt cost and no
    /// cap on hashes at once, in all or per address, because the benchmark signs thousands of
    /// users in at once, all from 127.0.0.1 (the defaults protect a real server from that:
    /// `auth.max_hashes_per_address`, 4, would refuse most; its sign-ins all succeed, so the
    /// limits on failed sign-ins never apply), and a long request timeout, so a slow moment
    /// shows in the latency figures rather than as failures. No per-user message rate
    /// (each pair sends tens of thousands of texts a second, far past the default 20 a second)
    /// and no stored-bytes quota (the file runs store many GiB as one user), so the figures
    /// measure the system, not its abuse limits. Its thousands of clients all connect from
    /// 127.0.0.1 before signing in, so no limit on connections not signed in per address (a
    /// real server allows 32), and each signs up its own account from there, so sign-ups per
    /// address are off too (a real server allows 20 an hour).
    public static let benchmarkSettings = ["auth.scrypt_n=16", "auth.max_queued_hashes=100000", "auth.max_hashes_per_address=100000",
                                           "bus.request_timeout_ms=30000",
                                           "gateway.messages_per_second=0", "auth.max_stored_bytes_per_user=0",
                                           "gateway.max_unauthenticated_per_address=0", "auth.free_sign_ups_per_address=0"]

    /// The settings that put a system's accounts, histories and files in the PostgreSQL
    /// database at `url` (the benchmark's `--postgres`, and the tests').
    public static func postgresSettings(url: String) -> [String] {
        ["storage.backend=\"postgres\"", "storage.postgres_url=\"\(url)\"", "auth.backend=\"postgres\"", "auth.postgres_url=\"\(url)\""]
    }

    /// Every storage endpoint made for the system, the first `storageWorkers` of them in use.
    public let storageEndpoints: [String]
    /// The config file naming the storage workers, when they can change while it runs.
    private let configFile: URL?

    /// `settings` are extra `key=value` overrides (e.g. a low scrypt cost for many sign-ins).
    /// `scalableTo`: endpoints are made for that many storage workers, and the workers named in
    /// a config file rather than by `--set`, for `scaleStorage(to:)` to add or remove some.
    /// `tls`: the gateway serves a TLS port too, with a certificate made for 127.0.0.1.
    public init(settings: [String], storageWorkers: Int, scalableTo maxStorageWorkers: Int? = nil, tls: Bool = false) throws {
        let ports = try LocalPorts.free(4 + max(storageWorkers, maxStorageWorkers ?? 0))
        port = ports[0]
        storageEndpoints = ports[4...].map { "tcp://127.0.0.1:\($0)" }
        dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("chat-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        var tlsSettings: [String] = []
        if tls {
            let pair = try Self.makeCertificate(in: dataDirectory)
            self.tls = (ports[3], pair.certificate)
            tlsSettings = ["gateway.tls_port=\(ports[3])", "gateway.tls_certificate=\"\(pair.certificate)\"",
                           "gateway.tls_private_key=\"\(pair.key)\""]
        } else {
            self.tls = nil
        }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("chatd")
        process.executableURL = executable
        var endpoints = LocalPorts.internalEndpointSettings(Array(ports[1..<3] + ports[4...]), storageInConfigFile: maxStorageWorkers != nil)
        if maxStorageWorkers != nil {
            let file = dataDirectory.appendingPathComponent("chatd.toml")
            try LocalPorts.storageConfig(Array(storageEndpoints.prefix(storageWorkers))).write(to: file, atomically: true, encoding: .utf8)
            configFile = file
            endpoints += ["--config", file.path]
        } else {
            configFile = nil
        }
        process.arguments = ["--data-dir", dataDirectory.path, "--port", String(port), "--set", "log_level=\"warning\""]
            + endpoints
            + (settings + tlsSettings).flatMap { ["--set", $0] }
            + ["--exit-with-parent", String(getpid())]
        // chatd stops when the thread that started it exits; see ProcessLauncher.
        try ProcessLauncher.shared.launch(process)
        try waitForPort(port, while: { process.isRunning })
        if let tls = self.tls { try waitForPort(tls.port, while: { process.isRunning }) }
        guard process.isRunning else { throw Exited(status: process.terminationStatus) }
    }

    /// A self-signed P-256 certificate for 127.0.0.1 and its key, made with `openssl` as
    /// `ops/make-tls-certificate.sh` makes one.
    private static func makeCertificate(in folder: URL) throws -> (certificate: String, key: String) {
        let certificate = folder.appendingPathComponent("certificate.pem").path, key = folder.appendingPathComponent("private-key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        guard openssl.terminationStatus == 0 else { throw CertificateNotMade(status: openssl.terminationStatus) }
        return (certificate, key)
    }

    struct Exited: Error, CustomStringConvertible {
        let status: Int32
        var description: String { "chatd exited with status \(status) before it listened (its error is above)" }
    }

    struct CertificateNotMade: Error, CustomStringConvertible {
        let status: Int32
        var description: String { "openssl could not make a certificate for the TLS port (status \(status))" }
    }

    public var supervisorPID: Int32 { process.processIdentifier }

    /// Runs `count` storage workers from now on, as an operator scales: the config file names
    /// them and the supervisor reloads it (partitions move while the system serves).
    public func scaleStorage(to count: Int) throws {
        guard let configFile, (1...storageEndpoints.count).contains(count) else { throw Exited(status: -1) }
        try LocalPorts.storageConfig(Array(storageEndpoints.prefix(count))).write(to: configFile, atomically: true, encoding: .utf8)
        kill(process.processIdentifier, SIGHUP)
    }


    /// SIGTERM, as an operator stops it; SIGKILL for it and its children if it lingers.
    public func stop() {
        let children = ProcessStats.all().filter { ProcessStats.parent(of: $0) == process.processIdentifier }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(15)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            FileHandle.standardError.write(Data("chat-bench: chatd did not stop in 15 s; killing it\n".utf8))
            for pid in children + [process.processIdentifier] { kill(pid, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: dataDirectory)
    }
}
