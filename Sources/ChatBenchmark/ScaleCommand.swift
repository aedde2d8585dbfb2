import ArgumentParser
import Foundation

/// The pause a live scaling step costs: the same text run twice on one system, first steady,
/// then with the storage workers changed (`chatd reload`) just as its first texts go out, so
/// the second run's latencies hold the partitions' moves. Each run is short, so the step
/// weighs in its percentiles.
struct ScaleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract: "Latency of a steady text run beside one during a storage scaling step (workers added or removed live).")

    @Option(help: "Sender/receiver pairs.") var pairs = 50
    @Option(help: "Messages each sender keeps in flight.") var window = 32
    @Option(help: "Messages each sender sends in each run.") var messages = 2_000
    @Option(help: "Storage workers at the start.") var from = 2
    @Option(help: "Storage workers after the step.") var to = 3
    @Option(help: "Repetitions: steady and scaling runs alternate, a new system each time.") var repetitions = 3

    func run() throws {
        print("== scale: \(pairs) pairs, window \(window), \(messages) messages per sender per run, storage workers \(from) -> \(to)")
        for repetition in 1...repetitions {
            let system = try SystemUnderTest(settings: SystemUnderTest.benchmarkSettings, storageWorkers: from, scalableTo: to)
            ProcessStats.supervisor.withLock { $0 = system.supervisorPID }
            defer { system.stop() }
            var options = TextBenchmark.Options()
            options.port = system.port
            options.pairs = pairs
            options.window = window
            options.messagesPerSender = messages
            options.uidBase = 500_000
            let steady = try TextBenchmark(options: options).run()
            options.uidBase = 600_000
            var scaled: Error?
            let scaling = try TextBenchmark(options: options).run {
                do { try system.scaleStorage(to: to) } catch { scaled = error }
            }
            if let scaled { throw scaled }
            for (name, result) in [("steady", steady), ("scaling", scaling)] {
                print(String(format: "run %d %-8@ %7.0f msg/s  p50 %@  p99 %@  p99.9 %@  max %@%@", repetition, name as NSString,
                             result.messagesPerSecond,
                             LatencySummary.milliseconds(result.latency.percentile(50)),
                             LatencySummary.milliseconds(result.latency.percentile(99)),
                             LatencySummary.milliseconds(result.latency.percentile(99.9)),
                             LatencySummary.milliseconds(result.latency.percentile(100)),
                             result.refused > 0 ? "  (\(result.refused) answered other than ok)" : ""))
            }
        }
    }
}
