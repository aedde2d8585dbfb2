import ArgumentParser
import Foundation

/// `chat-bench compare`: the same text workload against our system, ngIRCd and (optionally)
/// the minimal relay, alternating targets over repetitions, then medians and our/peer ratios.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Our system vs ngIRCd (and the minimal relay) on the same workload, alternating, with medians and ratios.")

    @Option(help: "Sender/receiver pairs; each value is one comparison.") var pairs: [Int] = [50, 1000]
    @Option(help: "Runs of each target (alternated A B A B ...).") var repetitions = 3
    @Option(help: "Messages each sender keeps in flight.") var window = 32
    @Option(help: "Body size in bytes.") var bodySize = 64
    @Option(help: "Messages each sender sends (default: 3000000 / pairs, at least 200).") var messages: Int?
    @Option(help: "Load-generator event loop threads.") var threads = 1
    @Flag(help: "Also run the minimal relay, the machine's practical ceiling.") var relay = false
    @Option(help: "Storage workers of our system.") var storageWorkers = 2

    struct Sample {
        let target: String
        let result: TextBenchmark.Result
        let peakMiB: Double
        let cpuPerHundredThousand: Double
    }

    func run() throws {
        let targets = ["chat", "ngircd"] + (relay ? ["relay"] : [])
        for pairCount in pairs {
            var samples: [Sample] = []
            var uidBase = 500_000
            print("== compare: \(pairCount) pairs, window \(window), \(bodySize)-byte bodies, \(repetitions) runs each")
            for repetition in 1...repetitions {
                for target in targets {
                    let sample = try measure(target, pairs: pairCount, uidBase: uidBase)
                    uidBase += 2 * pairCount + 10
                    samples.append(sample)
                    print(String(format: "run %d %-7@ %9.0f msg/s  p50 %@  p99 %@  p99.9 %@  peak RSS %7.1f MiB  CPU %.2f s/100k",
                                 repetition, target as NSString, sample.result.messagesPerSecond,
                                 LatencySummary.milliseconds(sample.result.latency.percentile(50)),
                                 LatencySummary.milliseconds(sample.result.latency.percentile(99)),
                                 LatencySummary.milliseconds(sample.result.latency.percentile(99.9)),
                                 sample.peakMiB, sample.cpuPerHundredThousand))
                }
            }
            summarize(samples, targets: targets)
        }
    }

    private func measure(_ name: String, pairs pairCount: Int, uidBase: Int) throws -> Sample {
        let target: BenchmarkTarget
        switch name {
        case "chat": target = try ChatTarget(storageWorkers: storageWorkers)
        case "ngircd": target = try NgircdServer()
        default: target = try RelayServerProcess()
        }
        defer { target.stop() }
        var options = TextBenchmark.Options()
        options.port = target.port
        options.pairs = pairCount
        options.window = window
        options.bodySize = bodySize
        options.messagesPerSender = messages
        options.threads = threads
        options.uidBase = uidBase
        var cpuBefore = 0.0
        // CPU and peak memory of the messages alone, not of signing everyone in.
        let snapshot = {
            let pids = target.pids
            pids.forEach { ProcessStats.resetPeak(pid: $0) }
            cpuBefore = pids.compactMap { ProcessStats.usage(of: $0)?.cpuSeconds }.reduce(0, +)
        }
        let result: TextBenchmark.Result
        switch name {
        case "chat": result = try TextBenchmark(options: options).run(beforeMessages: snapshot)
        case "ngircd": result = try IRCBenchmark(options: options, operatorLogin: NgircdServer.operatorLogin).run(beforeMessages: snapshot)
        default: result = try IRCBenchmark(options: options, operatorLogin: ("relay", "relay")).run(beforeMessages: snapshot)
        }
        let usages = target.pids.compactMap { ProcessStats.usage(of: $0) }
        let cpu = usages.map(\.cpuSeconds).reduce(0, +) - cpuBefore
        return Sample(target: name, result: result, peakMiB: Double(usages.map(\.peakKiB).reduce(0, +)) / 1024,
                      cpuPerHundredThousand: result.delivered > 0 ? cpu / Double(result.delivered) * 100_000 : 0)
    }

    private func summarize(_ samples: [Sample], targets: [String]) {
        func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            guard !sorted.isEmpty else { return 0 }
            return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
        var medians: [String: (rate: Double, p99: Double)] = [:]
        print("median      msg/s      p50 ms    p99 ms   p99.9 ms   peak RSS MiB   CPU s/100k")
        for target in targets {
            let own = samples.filter { $0.target == target }
            let rate = median(own.map(\.result.messagesPerSecond))
            let p50 = median(own.map { Double($0.result.latency.percentile(50)) / 1e6 })
            let p99 = median(own.map { Double($0.result.latency.percentile(99)) / 1e6 })
            let p999 = median(own.map { Double($0.result.latency.percentile(99.9)) / 1e6 })
            medians[target] = (rate, p99)
            print(String(format: "%-7@ %10.0f %10.2f %9.2f %10.2f %14.1f %12.2f", target as NSString, rate, p50, p99, p999,
                         median(own.map(\.peakMiB)), median(own.map(\.cpuPerHundredThousand))))
        }
        if let ours = medians["chat"], let peer = medians["ngircd"], peer.rate > 0 {
            print(String(format: "chat/ngircd: throughput %.2fx, p99 latency %.2fx (lower is better)", ours.rate / peer.rate,
                         peer.p99 > 0 ? ours.p99 / peer.p99 : 0))
        }
        if let ours = medians["chat"], let ceiling = medians["relay"], ceiling.rate > 0 {
            print(String(format: "chat/relay:  throughput %.2fx of the machine's practical ceiling", ours.rate / ceiling.rate))
        }
    }
}

/// `chat-bench idle`: memory per idle signed-in session and sign-ins per second, ours and ngIRCd's.
struct IdleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "idle", abstract: "Memory per idle signed-in session, and sign-ins per second (ours and ngIRCd).")

    @Option(help: "Sessions to open.") var sessions = 10_000
    @Option(help: "scrypt N for our system's sign-ups (the default cost is 131072; low measures the rest of the path).") var scryptN = 16

    func run() throws {
        print("== idle: \(sessions) signed-in sessions")
        for name in ["chat", "ngircd"] {
            let target: BenchmarkTarget = name == "chat"
                ? try ChatTarget(storageWorkers: 2, scryptN: scryptN) : try NgircdServer()
            defer { target.stop() }
            let result = try IdleSessions(port: target.port, sessions: sessions, irc: name == "ngircd", uidBase: 600_000)
                .run { target.pids }
            print(String(format: "%-7@ %7.1f KiB per session (all processes: %.1f -> %.1f MiB), %6.0f sign-ins/s%@",
                         name as NSString, result.kibPerSession, Double(result.residentBeforeKiB) / 1024,
                         Double(result.residentAfterKiB) / 1024, result.signInsPerSecond,
                         name == "chat" ? " (sign-up + sign-in, scrypt N=\(scryptN))" : ""))
        }
    }
}

/// `chat-bench relay-server`: the minimal relay, run by `compare --relay` in a process of its own.
struct RelayServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "relay-server", abstract: "Run the minimal IRC-subset relay (used by compare).",
                                                    shouldDisplay: false)
    @Option var port: Int

    func run() throws { try MinimalRelay().run(port: port) }
}
