import ChatRuntime
import Foundation

/// A small internet in network namespaces: a public side (203.0.113.0/24) with the chat
/// server, two NAT routers (iptables MASQUERADE), one host behind the second NAT and two behind
/// the first (198.18.0.0/15 on the private sides: not routed on the internet, and a range the client dials private endpoints in).
///
/// ```
///   hostA  198.18.1.10 ─┐                          ┌─ srv 203.0.113.10 (chatd :7890)
///   hostA2 198.18.1.11 ─┴─ nat1 203.0.113.1 ──┬────┘
///   hostB  198.18.2.10 ─── nat2 203.0.113.2 ──┘
/// ```
/// Each NAT drops new inbound connections on its public side, as a home router does. It sets
/// itself up in `init` and tears itself down in `tearDown` (and tears down leftovers first).
/// The tests run transfers through it, and so does `chat-bench p2p --nat-lab`.
public final class NATLab: @unchecked Sendable {
    public enum Mapping: Sendable {
        /// Plain MASQUERADE: keeps the source port when it can, like most home NATs.
        case portPreserving
        /// MASQUERADE --random-fully: a new random port for every destination.
        case randomPorts
    }

    public struct Failure: Error, CustomStringConvertible { public let description: String }

    public static let serverAddress = "203.0.113.10"
    public static let otherServerAddress = "203.0.113.11"
    public let prefix: String
    public var server: String { "\(prefix)-srv" }
    public var hostA: String { "\(prefix)-a" }
    public var hostA2: String { "\(prefix)-a2" }
    public var hostB: String { "\(prefix)-b" }
    private var namespaces: [String] { ["srv", "nat1", "nat2", "a", "a2", "b"].map { "\(prefix)-\($0)" } }
    private var serverProcess: Process?

    /// Root, `ip netns` and iptables all work here.
    public static let isAvailable: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/sbin/iptables") || which("iptables") else { return false }
        let probe = "chatlab-probe-\(getpid())"
        guard (try? run(["ip", "netns", "add", probe])) != nil else { return false }
        defer { _ = try? run(["ip", "netns", "del", probe]) }
        return (try? run(["ip", "netns", "exec", probe, "iptables", "-t", "nat", "-L"])) != nil
    }()

    public init(mapping: Mapping) throws {
        prefix = "cl\(getpid() % 100_000)\(Int.random(in: 0..<100))"
        tearDown()
        do { try build(mapping) } catch {
            tearDown()
            throw error
        }
    }

    private func build(_ mapping: Mapping) throws {
        for namespace in namespaces {
            try Self.run(["ip", "netns", "add", namespace])
            try exec(namespace, ["ip", "link", "set", "lo", "up"])
        }
        let (srv, nat1, nat2) = (server, "\(prefix)-nat1", "\(prefix)-nat2")
        // Public side: a bridge in the server's namespace, one port per NAT.
        try exec(srv, ["ip", "link", "add", "br0", "type", "bridge"])
        try link(srv, "p1", nat1, "pub")
        try link(srv, "p2", nat2, "pub")
        for port in ["p1", "p2"] { try exec(srv, ["ip", "link", "set", port, "master", "br0", "up"]) }
        try exec(srv, ["ip", "addr", "add", "\(Self.serverAddress)/24", "dev", "br0"])
        // A second address of the same server: another destination, for `crowdEphemeralPorts`.
        try exec(srv, ["ip", "addr", "add", "\(Self.otherServerAddress)/24", "dev", "br0"])
        try exec(srv, ["ip", "link", "set", "br0", "up"])
        // NAT 1: two hosts on a bridge.
        try address(nat1, "pub", "203.0.113.1/24")
        try exec(nat1, ["ip", "link", "add", "lan", "type", "bridge"])
        try link(nat1, "la", hostA, "eth0")
        try link(nat1, "la2", hostA2, "eth0")
        for port in ["la", "la2"] { try exec(nat1, ["ip", "link", "set", port, "master", "lan", "up"]) }
        try address(nat1, "lan", "198.18.1.1/24")
        try host(hostA, "198.18.1.10/24", gateway: "198.18.1.1")
        try host(hostA2, "198.18.1.11/24", gateway: "198.18.1.1")
        // NAT 2: one host.
        try address(nat2, "pub", "203.0.113.2/24")
        try link(nat2, "lb", hostB, "eth0")
        try address(nat2, "lb", "198.18.2.1/24")
        try host(hostB, "198.18.2.10/24", gateway: "198.18.2.1")
        for nat in [nat1, nat2] { try masquerade(nat, mapping) }
    }

    private func masquerade(_ nat: String, _ mapping: Mapping) throws {
        try exec(nat, ["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        var rule = ["iptables", "-t", "nat", "-A", "POSTROUTING", "-o", "pub", "-j", "MASQUERADE"]
        if mapping == .randomPorts { rule.append("--random-fully") }
        try exec(nat, rule)
        // Unsolicited inbound traffic is dropped, to the router itself as well: otherwise its own
        // TCP stack answers an early SYN with a reset, which deletes the NAT entry.
        for chain in ["FORWARD", "INPUT"] {
            try exec(nat, ["iptables", "-A", chain, "-i", "pub", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"])
            try exec(nat, ["iptables", "-A", chain, "-i", "pub", "-j", "DROP"])
        }
    }

    private func link(_ left: String, _ leftName: String, _ right: String, _ rightName: String) throws {
        try Self.run(["ip", "link", "add", leftName, "netns", left, "type", "veth", "peer", "name", rightName, "netns", right])
        try exec(left, ["ip", "link", "set", leftName, "up"])
        try exec(right, ["ip", "link", "set", rightName, "up"])
    }

    private func address(_ namespace: String, _ device: String, _ cidr: String) throws {
        try exec(namespace, ["ip", "addr", "add", cidr, "dev", device])
        try exec(namespace, ["ip", "link", "set", device, "up"])
    }

    private func host(_ namespace: String, _ cidr: String, gateway: String) throws {
        try address(namespace, "eth0", cidr)
        try exec(namespace, ["ip", "route", "add", "default", "via", gateway])
    }

    /// Starts `chatd` (that binary) in the server's namespace and waits until it listens on 7890.
    public func startServer(chatd: URL, dataDirectory: URL, log: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ip", "netns", "exec", server, chatd.path,
                             "--data-dir", dataDirectory.path, "--set", "auth.scrypt_n=16",
                             // Every client of a NAT comes from its one public address (and
                             // `crowdEphemeralPorts` opens dozens of connections at once from it).
                             "--set", "gateway.max_unauthenticated_per_address=0",
                             "--exit-with-parent", String(getpid())]
        guard FileManager.default.createFile(atPath: log.path, contents: nil) else {
            throw Failure(description: "cannot create \(log.path)")
        }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        // chatd watches this process (--exit-with-parent); see ProcessLauncher.
        try ProcessLauncher.shared.launch(process)
        serverProcess = process
        let deadline = Date().addingTimeInterval(30)
        while (try? exec(server, ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/7890"])) == nil {
            guard process.isRunning else { throw Failure(description: "chatd exited in the lab (status \(process.terminationStatus))") }
            guard Date() < deadline else {
                throw Failure(description: "chatd did not listen in the lab within 30 s; log:\n\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// Narrows `namespace`'s ephemeral ports to `ports` of them and fills `timeWait` with
    /// TIME-WAIT sockets (connections closed from this side first) to another destination
    /// than the chat server's: a busy machine's state, where the port the kernel picks for an
    /// unbound connect to the server is one those sockets still hold, and no socket can bind
    /// it again. Returns how many TIME-WAIT sockets there are.
    @discardableResult
    public func crowdEphemeralPorts(in namespace: String, ports: Int = 100, timeWait: Int = 80) throws -> Int {
        try exec(namespace, ["sysctl", "-qw", "net.ipv4.ip_local_port_range=40000 \(40000 + ports - 1)"])
        try exec(namespace, ["bash", "-c", "for i in $(seq \(timeWait)); do exec 3<>/dev/tcp/\(Self.otherServerAddress)/7890 && exec 3>&-; done"])
        let sockets = try exec(namespace, ["ss", "-Htan", "state", "time-wait"])
        return sockets.split(separator: "\n").count
    }

    public func tearDown() {
        if let serverProcess, serverProcess.isRunning {
            // SIGTERM, and SIGKILL if it is still running after 20 s.
            serverProcess.terminate()
            let deadline = Date().addingTimeInterval(20)
            while serverProcess.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if serverProcess.isRunning { kill(serverProcess.processIdentifier, SIGKILL) }
        }
        for namespace in namespaces {
            _ = try? Self.run(["ip", "netns", "del", namespace])
        }
    }

    @discardableResult
    private func exec(_ namespace: String, _ command: [String]) throws -> String {
        try Self.run(["ip", "netns", "exec", namespace] + command)
    }

    /// Runs a set-up command to its end, its output returned; one still running after
    /// `timeout` is killed and fails.
    @discardableResult
    public static func run(_ command: [String], timeout: Duration = .seconds(30)) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = CommandOutput()
        let reader = Thread { output.set(pipe.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        guard output.done.wait(timeout: .now() + .seconds(Int(timeout.components.seconds))) == .success else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw Failure(description: "\(command.joined(separator: " ")) did not finish within \(timeout)")
        }
        process.waitUntilExit()
        let text = output.text
        guard process.terminationStatus == 0 else { throw Failure(description: "\(command.joined(separator: " ")): \(text)") }
        return text
    }

    /// What a command printed, read to its end on a thread of its own.
    private final class CommandOutput: @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        private var data = Data()
        private let lock = NSLock()

        func set(_ data: Data) {
            lock.lock()
            self.data = data
            lock.unlock()
            done.signal()
        }

        var text: String {
            lock.lock()
            defer { lock.unlock() }
            return String(decoding: data, as: UTF8.self)
        }
    }

    private static func which(_ tool: String) -> Bool { (try? run(["which", tool])) != nil }
}
