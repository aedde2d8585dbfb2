import ArgumentParser
import ChatRuntime
import Foundation
import ThrowawayPostgres

/// `chat-bench`: drives a chat system and prints what it measured.
public struct ChatBenchCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "chat-bench",
        abstract: "Measure the chat system: text throughput and latency, file transfer, memory and CPU.",
        discussion: """
            By default each run starts its own system (chatd from the same folder, on free loopback
            ports, temporary data, low scrypt cost) and stops it after. With --port it drives a
            running system instead; its users must be able to sign up (uids from --uid-base on).
            """,
        subcommands: [TextCommand.self, FileCommand.self, PeerCommand.self, CompareCommand.self, IdleCommand.self, CodecCommand.self,
                      RelayServerCommand.self, AbuseCommand.self, ScaleCommand.self, SignInCommand.self, StormCommand.self],
        defaultSubcommand: TextCommand.self)

    public init() {}
}

/// Where the benchmark's system comes from.
struct TargetOptions: ParsableArguments {
    @Option(help: "Drive a running system on this port instead of starting one.") var port: Int?
    @Option(help: "Host of a running system.") var host = "127.0.0.1"
    @Option(help: "First uid used.") var uidBase = 500_000
    @Option(help: "Storage workers of the started system.") var storageWorkers = 2
    @Option(name: .customLong("set"), help: "A setting of the started system, as chatd's --set key=value (repeatable).")
    var settings: [String] = []
    @Flag(help: "Speak TLS to the gateway's TLS port (a started system serves one with a self-signed certificate).")
    var tls = false
    @Option(help: ArgumentHelp("With --port and --tls: the certificate (PEM) to trust for that port.", valueName: "file"))
    var caFile: String?
    @Flag(help: "Keep the started system's accounts, histories and files in a throwaway PostgreSQL server (Debian's postgresql).")
    var postgres = false
    @Option(help: "Auth workers of the started system.") var authWorkers = 1

    func validate() throws {
        if tls && port != nil && caFile == nil { throw ValidationError("--tls with --port needs --ca-file") }
        if caFile != nil && !tls { throw ValidationError("--ca-file is for --tls") }
        if port != nil && (postgres || authWorkers != 1) { throw ValidationError("--postgres and --auth-workers are for a started system") }
        if authWorkers < 1 { throw ValidationError("--auth-workers must be at least 1") }
    }

    /// Where the clients connect: the plaintext port, or the TLS port and the certificate
    /// (PEM file) to trust there.
    struct Connection {
        let port: Int
        let trust: String?
    }

    /// Runs `body` against the target: a started system (stopped after) or the given port.
    /// Process figures then cover that system's processes only, or every `chatd` on the machine.
    func withSystem(extraSettings: [String] = [], _ body: (Connection) throws -> Void) throws {
        if let port {
            ProcessStats.supervisor.withLock { $0 = nil }
            return try body(Connection(port: port, trust: tls ? caFile : nil))
        }
        // Started first and stopped last: the system's workers hold connections to it.
        let database = try postgres ? PostgresServer() : nil
        var backend: [String] = []
        if let url = database?.url() { backend = SystemUnderTest.postgresSettings(url: url) }
        if authWorkers > 1 {
            let endpoints = try LocalPorts.free(authWorkers).map { "\"tcp://127.0.0.1:\($0)\"" }
            backend.append("auth.endpoints=[\(endpoints.joined(separator: ", "))]")
        }
        let system = try SystemUnderTest(settings: SystemUnderTest.benchmarkSettings + backend + extraSettings + settings,
                                         storageWorkers: storageWorkers, tls: tls)
        ProcessStats.supervisor.withLock { $0 = system.supervisorPID }
        defer { system.stop() }
        try body(system.tls.map { Connection(port: $0.port, trust: $0.certificate) } ?? Connection(port: system.port, trust: nil))
    }
}

struct TextCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "text", abstract: "P sender/receiver pairs, W texts in flight each (the default).")

    @OptionGroup var target: TargetOptions
    @Option(help: "Sender/receiver pairs; several values run one after another.") var pairs: [Int] = [50, 1000]
    @Option(help: "Messages each sender keeps in flight.") var window = 32
    @Option(help: "Body size in bytes (holds the send time).") var bodySize = 64
    @Option(help: "Messages each sender sends (default: 3000000 / pairs, at least 200).") var messages: Int?
    @Option(help: "Load-generator event loop threads.") var threads = 1

    func run() throws {
        for pairCount in pairs {
            try target.withSystem { connection in
                var options = TextBenchmark.Options()
                options.host = target.host
                options.port = connection.port
                options.tlsTrust = connection.trust
                options.pairs = pairCount
                options.window = window
                options.bodySize = bodySize
                options.messagesPerSender = messages
                options.threads = threads
                options.uidBase = target.uidBase
                try report(options)
            }
        }
    }

    private func report(_ options: TextBenchmark.Options) throws {
        print("== text: \(options.pairs) pairs, window \(options.window), \(options.bodySize)-byte bodies, \(options.messagesEachSenderSends) messages per sender"
              + (options.tlsTrust == nil ? "" : ", in TLS"))
        var before: [ProcessStats] = []
        // CPU and peak memory of the messages alone, not of signing everyone in.
        let result = try TextBenchmark(options: options).run {
            before = ProcessStats.chatdProcesses()
            before.forEach { ProcessStats.resetPeak(pid: $0.pid) }
        }
        let expected = options.pairs * options.messagesEachSenderSends
        print(String(format: "sign-in:   %d users in %.2f s", options.pairs * 2, result.signInSeconds))
        print(String(format: "delivered: %d of %d messages in %.2f s = %.0f msg/s%@", result.delivered, expected, result.seconds,
                     result.messagesPerSecond, result.refused > 0 ? " (\(result.refused) answered other than ok)" : ""))
        print("latency:   p50 \(LatencySummary.milliseconds(result.latency.percentile(50)))"
              + "  p99 \(LatencySummary.milliseconds(result.latency.percentile(99)))"
              + "  p99.9 \(LatencySummary.milliseconds(result.latency.percentile(99.9)))")
        ProcessTable.print(before: before, after: ProcessStats.chatdProcesses(), messages: result.delivered)
    }
}

struct FileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "file", abstract: "Upload then download one large file through the server.")

    @OptionGroup var target: TargetOptions
    @Option(help: "File size in MiB.") var sizeMib = 1024

    func run() throws {
        let bytes = Int64(sizeMib) << 20
        try target.withSystem(extraSettings: ["gateway.max_file_bytes=\(max(bytes, 1 << 30))"]) { connection in
            print("== file: \(sizeMib) MiB through the server\(connection.trust == nil ? "" : ", in TLS")")
            let idle = ProcessStats.chatdProcesses()
            var phases: [(String, [ProcessStats])] = []
            idle.forEach { ProcessStats.resetPeak(pid: $0.pid) }
            let result = try FileBenchmark(port: connection.port, tlsTrust: connection.trust, bytes: bytes).run(uidBase: target.uidBase) { phase in
                let stats = ProcessStats.chatdProcesses()
                phases.append((phase, stats))
                stats.forEach { ProcessStats.resetPeak(pid: $0.pid) }
            }
            let mib = Double(bytes) / 1_048_576
            let loopback = mib / result.loopbackSeconds, disk = mib / result.diskSeconds
            let upload = mib / result.uploadSeconds, download = mib / result.downloadSeconds
            print(String(format: "upload    %.2f s = %.0f MiB/s (%.0f%% of plain loopback TCP, %.0f%% of the disk's durable write)",
                         result.uploadSeconds, upload, upload / loopback * 100, upload / disk * 100))
            print(String(format: "download  %.2f s = %.0f MiB/s (%.0f%% of plain loopback TCP)", result.downloadSeconds, download, download / loopback * 100))
            print(String(format: "loopback  %.2f s = %.0f MiB/s (a plain TCP copy of the same bytes)", result.loopbackSeconds, loopback))
            print(String(format: "disk      %.2f s = %.0f MiB/s (the same bytes written to a file and fsynced)", result.diskSeconds, disk))
            print("process        idle RSS   peak RSS upload   peak RSS download")
            for process in idle {
                let peaks = phases.map { phase in phase.1.first { $0.pid == process.pid }?.peakResidentKiB ?? 0 }
                print("\(process.role.padding(12)) \(ProcessTable.mib(process.residentKiB))   \(ProcessTable.mib(peaks.first ?? 0))   \(ProcessTable.mib(peaks.last ?? 0))")
            }
        }
    }
}

struct PeerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "p2p",
        abstract: "Peer-to-peer transfers timed from the offer: on loopback direct and through the relay, or across the NAT lab.",
        discussion: """
            Prints, for each path, the time from the offer (the server's `p2p offered`) to the receiver's first bytes \
            and to the file received and checked. --nat-lab (root, ip netns, iptables) runs the clients behind two \
            port-preserving NATs (direct) and behind two port-randomising ones (relay), the server on the public side.
            """)

    @OptionGroup var target: TargetOptions
    @Option(help: "File size in MiB.") var sizeMib = 256
    @Flag(help: "Across NATs in network namespaces instead of on loopback (needs root).") var natLab = false

    func validate() throws {
        if target.tls { throw ValidationError("p2p runs over the plaintext port only") }
        if natLab && target.port != nil { throw ValidationError("--nat-lab starts its own server in the lab") }
    }

    func run() throws {
        let benchmark = PeerBenchmark(bytes: sizeMib << 20)
        var runs: [PeerBenchmark.Run] = []
        if natLab {
            print("== p2p: \(sizeMib) MiB between two chat clients behind NATs (network namespaces)")
            let chatd = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("chatd")
            for (index, (label, mapping)) in [("port-preserving NATs", NATLab.Mapping.portPreserving), ("randomising NATs", .randomPorts)].enumerated() {
                let lab = try NATLab(mapping: mapping)
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chat-bench-lab-\(UUID().uuidString)")
                defer {
                    lab.tearDown()
                    try? FileManager.default.removeItem(at: folder)
                }
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try lab.startServer(chatd: chatd, dataDirectory: folder.appendingPathComponent("data"), log: folder.appendingPathComponent("chatd.log"))
                runs.append(try benchmark.run(label, at: .lab(lab, sender: lab.hostA, receiver: lab.hostB),
                                              uids: (target.uidBase + 2 * index, target.uidBase + 2 * index + 1)))
            }
        } else {
            try target.withSystem { connection in
                print("== p2p: \(sizeMib) MiB between two chat clients on loopback")
                for (index, (label, arguments)) in [("loopback", [String]()), ("relay forced", ["--p2p-timeout", "0"])].enumerated() {
                    runs.append(try benchmark.run(label, at: .loopback(port: connection.port),
                                                  uids: (target.uidBase + 10 + 2 * index, target.uidBase + 11 + 2 * index), arguments: arguments))
                }
            }
        }
        print("path                   route   offer->first byte   offer->done")
        for run in runs {
            print("\(run.label.padding(22)) \(run.route.padding(7)) \(String(format: "%17.3f s", run.offerToFirstByte))   \(String(format: "%9.3f s", run.offerToDone))")
        }
        for run in runs { print("  \(run.label): \(run.report)") }
    }
}

struct CodecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "codec", abstract: "The bus codec alone: the envelopes of one text, encoded and decoded in batches.")

    @Option(help: "Batches of each envelope (fewer for a run under valgrind --tool=callgrind).") var batches = 4_000

    func run() throws {
        var benchmark = CodecBenchmark()
        benchmark.batches = batches
        print("== codec: nanoseconds per envelope, in batches of \(benchmark.envelopesPerBatch)")
        print("envelope          encode   decode")
        for figure in try benchmark.run() {
            print("\(figure.name.padding(16)) \(String(format: "%7.0f  %7.0f", figure.encodeNanos, figure.decodeNanos))")
        }
    }
}

enum ProcessTable {
    static func print(before: [ProcessStats], after: [ProcessStats], messages: Int) {
        Swift.print("process        peak RSS      CPU s   CPU s/100k msgs")
        for stats in after {
            let cpu = stats.cpuSeconds - (before.first { $0.pid == stats.pid }?.cpuSeconds ?? 0)
            let perHundredThousand = messages > 0 ? cpu / Double(messages) * 100_000 : 0
            Swift.print("\(stats.role.padding(12)) \(mib(stats.peakResidentKiB)) \(String(format: "%9.2f %12.2f", cpu, perHundredThousand))")
        }
    }

    static func mib(_ kib: Int) -> String { String(format: "%8.1f MiB", Double(kib) / 1024) }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}

struct SignInCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signins",
        abstract: "Password sign-ups then sign-ins of many users at once, at the default scrypt cost (unless --set changes it).")

    @OptionGroup var target: TargetOptions
    @Option(help: "Accounts signed up, then signed in, all at once.") var users = 60

    func run() throws {
        // The default cost, not the other benchmarks' low one: this measures the hashing.
        let cost = "auth.scrypt_n=\(ChatConfiguration().scryptN)"
        try target.withSystem(extraSettings: [cost]) { connection in
            print("== signins: \(users) users at once, \(target.authWorkers) auth worker\(target.authWorkers == 1 ? "" : "s")"
                  + (target.postgres ? ", accounts in PostgreSQL" : ""))
            let result = try SignInBenchmark(host: target.host, port: connection.port, trust: connection.trust,
                                             users: users, uidBase: target.uidBase).run()
            print(String(format: "sign-ups  %.1f /s", result.signUpsPerSecond))
            print(String(format: "sign-ins  %.1f /s%@", result.signInsPerSecond, result.failures > 0 ? " (\(result.failures) failed)" : ""))
        }
    }
}

struct StormCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storm",
        abstract: "Kill the gateway under many signed-in clients holding resumption tickets; time until every one is back.")

    @OptionGroup var target: TargetOptions
    @Option(help: "Clients signed in when the gateway is killed.") var clients = 10_000

    func run() throws {
        // Every client holds a descriptor here too.
        FileDescriptorLimit.raiseToHardLimit()
        try target.withSystem { connection in
            print("== storm: \(clients) clients, the gateway killed, each back with `resume` after chat's jittered backoff")
            let gateway = { ProcessStats.chatdProcesses().first { $0.role == "gateway" }?.pid }
            let result = try ReconnectStormBenchmark(host: target.host, port: connection.port, trust: connection.trust,
                                                     clients: clients, uidBase: target.uidBase, gatewayPID: gateway).run()
            print(String(format: "signed in: %d clients (password and ticket) in %.2f s", clients, result.signInSeconds))
            print(String(format: "gateway:   accepting again %.2f s after the kill", result.gatewayBackSeconds))
            let quantiles = result.resumesSentQuantiles
            print(String(format: "resumes:   half sent %.2f s after the kill, 90%% %.2f s, 99%% %.2f s, the last %.2f s",
                         quantiles[0], quantiles[1], quantiles[2], result.resumesSentSeconds))
            print(String(format: "back:      every client signed in again %.2f s after the kill%@", result.backSeconds,
                         result.fellBackToPassword > 0 ? " (\(result.fellBackToPassword) with their password, the ticket refused)" : ""))
            print(String(format: "tickets:   every client had its next ticket %.2f s after the kill", result.nextTicketsSeconds))
            let cpu = result.cpuSeconds.map { String(format: "%@ %.2f s", $0.role, $0.seconds) } + [String(format: "load generator %.2f s", result.generatorCPUSeconds)]
            print("cpu:       \(cpu.joined(separator: ", ")) from the kill until every client had its next ticket")
        }
    }
}
