import ChatBenchmark
import ChatRuntime
import Foundation

/// Machines in network namespaces on one switch (198.51.100.0/24), each process of a system
/// on its own: PostgreSQL, auth, two storage workers, router and gateway. The test process
/// joins the switch too (198.51.100.1), as the clients' machine. A machine's link can be cut
/// and restored at the switch, which cuts it off from everyone, the database included.
///
/// ```
///   db .10 (PostgreSQL :5432)   auth .11   st0 .12   st1 .13   router .14   gw .15 (:7890)
///     └──────────┴───────────────┴─────────┴─────────┴──────────┴────────────┘  switch
///                                                           └── this process .1
/// ```
final class MultiHostLab {
    static let hosts = ["db": 10, "auth": 11, "st0": 12, "st1": 13, "router": 14, "gw": 15]
    static func address(_ host: String) -> String { "198.51.100.\(hosts[host]!)" }

    let prefix = "mh\(getpid() % 100_000)\(Int.random(in: 0..<100))"
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("multi-host-\(UUID().uuidString.prefix(8))")
    private var processes: [Process] = []
    private var namespaces: [String] { ["sw"] + Self.hosts.keys.sorted() }
    private func namespace(_ host: String) -> String { "\(prefix)-\(host)" }
    /// The test process's end of its link to the switch.
    private var hostLink: String { "\(prefix)h" }

    init() throws {
        tearDown()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        do { try build() } catch {
            tearDown()
            throw error
        }
    }

    private func build() throws {
        for name in namespaces {
            try NATLab.run(["ip", "netns", "add", namespace(name)])
            try exec(name, ["ip", "link", "set", "lo", "up"])
        }
        try exec("sw", ["ip", "link", "add", "br0", "type", "bridge"])
        try exec("sw", ["ip", "link", "set", "br0", "up"])
        for (host, number) in Self.hosts {
            try NATLab.run(["ip", "link", "add", "p\(number)", "netns", namespace("sw"), "type", "veth", "peer", "name", "eth0",
                            "netns", namespace(host)])
            try exec("sw", ["ip", "link", "set", "p\(number)", "master", "br0", "up"])
            try exec(host, ["ip", "addr", "add", "\(Self.address(host))/24", "dev", "eth0"])
            try exec(host, ["ip", "link", "set", "eth0", "up"])
        }
        try NATLab.run(["ip", "link", "add", hostLink, "type", "veth", "peer", "name", "p1", "netns", namespace("sw")])
        try exec("sw", ["ip", "link", "set", "p1", "master", "br0", "up"])
        try NATLab.run(["ip", "addr", "add", "198.51.100.1/24", "dev", hostLink])
        try NATLab.run(["ip", "link", "set", hostLink, "up"])
    }

    /// Cuts `host` off the switch (its link down at the switch's end), or puts it back.
    func cut(_ host: String) throws { try exec("sw", ["ip", "link", "set", "p\(Self.hosts[host]!)", "down"]) }
    func restore(_ host: String) throws { try exec("sw", ["ip", "link", "set", "p\(Self.hosts[host]!)", "up"]) }

    /// Starts `chatd` with `arguments` in `host`'s namespace, logging to `<folder>/<name>.log`;
    /// it stops when this process does (`--parent-pid`).
    @discardableResult
    func start(_ arguments: [String], on host: String, name: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ip", "netns", "exec", namespace(host), ChatSystem.binaries.appendingPathComponent("chatd").path]
            + arguments + ["--parent-pid", String(getpid())]
        let log = folder.appendingPathComponent("\(name).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try ProcessLauncher.shared.launch(process)
        processes.append(process)
        return process
    }

    /// Every process's log, for a failure's message.
    var logs: String {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.filter { $0.hasSuffix(".log") }.sorted() ?? []
        return names.map { "== \($0)\n" + ((try? String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8)) ?? "") }
            .joined(separator: "\n")
    }

    func tearDown() {
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for process in processes { process.waitUntilExit() }
        processes.removeAll()
        _ = try? NATLab.run(["ip", "link", "del", hostLink])
        for name in namespaces { _ = try? NATLab.run(["ip", "netns", "del", namespace(name)]) }
        try? FileManager.default.removeItem(at: folder)
    }

    @discardableResult
    func exec(_ host: String, _ command: [String]) throws -> String {
        try NATLab.run(["ip", "netns", "exec", namespace(host)] + command)
    }

    func namespaceName(_ host: String) -> String { namespace(host) }
}
