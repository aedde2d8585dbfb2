import ChatRuntime
import Foundation

/// The other servers the comparison runs, started and stopped by the benchmark alone.
protocol BenchmarkTarget: AnyObject {
    var name: String { get }
    var port: Int { get }
    /// Every process of the target, for memory and CPU.
    var pids: [Int32] { get }
    func stop()
}

/// ngIRCd (Debian's `ngircd`), installed if missing, on a loopback port with its own config,
/// its flood control lifted so it is not throttled.
final class NgircdServer: BenchmarkTarget {
    let name = "ngircd"
    let port: Int
    static let operatorLogin = ("bench", "benchpw")
    private let process = Process()
    private let folder: URL

    init() throws {
        if !FileManager.default.isExecutableFile(atPath: "/usr/sbin/ngircd") {
            FileHandle.standardError.write(Data("installing ngircd...\n".utf8))
            let install = Process()
            install.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            install.arguments = ["sh", "-c", "(apt-get install -y ngircd || (apt-get update && apt-get install -y ngircd)) >/dev/null"]
            try install.run()
            install.waitUntilExit()
        }
        port = try LocalPorts.free(1)[0]
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("chat-bench-ngircd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let config = folder.appendingPathComponent("ngircd.conf")
        try """
            [Global]
            Name = bench.irc
            Info = chat-bench peer
            Listen = 127.0.0.1
            Ports = \(port)
            [Limits]
            MaxConnections = 0
            MaxConnectionsIP = 0
            MaxJoins = 0
            MaxPenaltyTime = 0
            PingTimeout = 600
            PongTimeout = 600
            [Options]
            DNS = no
            Ident = no
            PAM = no
            [Operator]
            Name = \(Self.operatorLogin.0)
            Password = \(Self.operatorLogin.1)

            """.write(to: config, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ngircd")
        process.arguments = ["-n", "-f", config.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try waitForPort(port)
    }

    var pids: [Int32] { [process.processIdentifier] }

    func stop() {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: folder)
    }
}

/// The minimal relay, in a process of its own (`chat-bench relay-server`).
final class RelayServerProcess: BenchmarkTarget {
    let name = "relay"
    let port: Int
    private let process = Process()

    init() throws {
        port = try LocalPorts.free(1)[0]
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["relay-server", "--port", String(port)]
        try process.run()
        try waitForPort(port)
    }

    var pids: [Int32] { [process.processIdentifier] }

    func stop() {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }
}

/// Our own system, as users start it.
final class ChatTarget: BenchmarkTarget {
    let name = "chat"
    private let system: SystemUnderTest
    var port: Int { system.port }

    init(storageWorkers: Int, scryptN: Int = 16) throws {
        system = try SystemUnderTest(settings: SystemUnderTest.benchmarkSettings + ["auth.scrypt_n=\(scryptN)"], storageWorkers: storageWorkers)
    }

    var pids: [Int32] {
        [system.supervisorPID] + ProcessStats.all().filter { ProcessStats.parent(of: $0) == system.supervisorPID }
    }

    func stop() { system.stop() }
}

/// Waits up to 10 s for a server to listen on `port`; returns early, for the caller to say
/// why, once `alive` says the server has stopped.
func waitForPort(_ port: Int, while alive: () -> Bool = { true }) throws {
    struct NotListening: Error, CustomStringConvertible {
        let port: Int
        var description: String { "nothing listens on 127.0.0.1:\(port)" }
    }
    for _ in 0..<200 {
        guard alive() else { return }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        close(fd)
        if connected { return }
        Thread.sleep(forTimeInterval: 0.05)
    }
    throw NotListening(port: port)
}
