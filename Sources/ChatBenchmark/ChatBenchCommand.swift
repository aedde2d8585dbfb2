import ArgumentParser
import Foundation

/// `chat-bench`: drives text messages through a chat system and prints what it measured.
public struct ChatBenchCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "chat-bench",
        abstract: "Measure delivered messages per second, latency, and the server's memory and CPU.",
        discussion: """
            By default it starts its own system (chatd from the same folder, on free loopback ports,
            temporary data, low scrypt cost) and stops it after. With --port it drives a running
            system instead; its users must be able to sign up (uids from --uid-base on).
            """)

    @Option(help: "Sender/receiver pairs; several values run one after another.") var pairs: [Int] = [50, 1000]
    @Option(help: "Messages each sender keeps in flight.") var window = 32
    @Option(help: "Body size in bytes (holds the send time).") var bodySize = 64
    @Option(help: "Messages each sender sends, per pair count.") var messages: Int?
    @Option(help: "Load-generator event loop threads.") var threads = 1
    @Option(help: "Drive a running system on this port instead of starting one.") var port: Int?
    @Option(help: "Host of a running system.") var host = "127.0.0.1"
    @Option(help: "First uid used.") var uidBase = 500_000
    @Option(help: "Storage workers of the started system.") var storageWorkers = 2

    public init() {}

    public func run() throws {
        for pairCount in pairs {
            var system: SystemUnderTest?
            if port == nil {
                system = try SystemUnderTest(settings: ["auth.scrypt_n=16", "bus.request_timeout_ms=30000"], storageWorkers: storageWorkers)
            }
            defer { system?.stop() }
            var options = TextBenchmark.Options()
            options.host = host
            options.port = port ?? system!.port
            options.pairs = pairCount
            options.window = window
            options.bodySize = bodySize
            // Enough that a run lasts seconds at either size.
            options.messagesPerSender = messages ?? max(200, 200_000 / pairCount)
            options.threads = threads
            options.uidBase = uidBase
            try report(options)
        }
    }

    private func report(_ options: TextBenchmark.Options) throws {
        print("== \(options.pairs) pairs, window \(options.window), \(options.bodySize)-byte bodies, \(options.messagesPerSender) messages per sender")
        let before = ProcessStats.chatdProcesses()
        before.forEach { ProcessStats.resetPeak(pid: $0.pid) }
        let result = try TextBenchmark(options: options).run()
        let after = ProcessStats.chatdProcesses()
        let expected = options.pairs * options.messagesPerSender
        print(String(format: "sign-in:   %d users in %.2f s", options.pairs * 2, result.signInSeconds))
        print(String(format: "delivered: %d of %d messages in %.2f s = %.0f msg/s%@", result.delivered, expected, result.seconds,
                     result.messagesPerSecond, result.refused > 0 ? " (\(result.refused) answered other than ok)" : ""))
        print("latency:   p50 \(LatencySummary.milliseconds(result.latency.percentile(50)))"
              + "  p99 \(LatencySummary.milliseconds(result.latency.percentile(99)))"
              + "  p99.9 \(LatencySummary.milliseconds(result.latency.percentile(99.9)))")
        print("process        peak RSS     CPU s   CPU s/100k msgs")
        for stats in after {
            let cpu = stats.cpuSeconds - (before.first { $0.pid == stats.pid }?.cpuSeconds ?? 0)
            print(String(format: "%-12@ %8.1f MiB %8.2f %10.2f", stats.role as NSString, Double(stats.peakResidentKiB) / 1024, cpu,
                         result.delivered > 0 ? cpu / Double(result.delivered) * 100_000 : 0))
        }
    }
}
