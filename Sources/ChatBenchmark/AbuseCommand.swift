import ArgumentParser
import ChatRuntime
import Foundation

/// `chat-bench abuse`: the attacks of issue 14 against a system with its default limits.
struct AbuseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abuse",
        abstract: "A sign-in storm, a connection flood and slow readers; what a bystander notices and what they cost.",
        discussion: """
            Unlike the other runs, the started system keeps chatd's defaults (the full scrypt cost,
            every limit), because the limits are what is measured; --set changes any of them.
            Attackers connect from 127.0.0.2, 127.0.1.x, 127.0.0.4-5, the bystander from 127.0.0.3.
            The slow readers sign up from 127.0.0.4 and their senders from 127.0.0.5, so more than
            20 of them (auth.free_sign_ups_per_address) need that setting raised with --set.
            """)

    @Option(help: "Storm connections guessing passwords and probing uids.") var stormConnections = 300
    @Option(help: "Seconds the storm lasts.") var stormSeconds = 20.0
    @Option(help: "Flood connections that never sign in.") var floodConnections = 10_000
    @Option(help: "Loopback addresses the flood comes from (127.0.1.1 on).") var floodAddresses = 100
    @Option(help: "Seconds the flood is held.") var floodSeconds = 10.0
    @Option(help: "Receivers that never read.") var slowReaders = 16
    @Option(help: "Seconds texts are sent to them.") var slowReaderSeconds = 20.0
    @Option(help: "Storage workers of the started system.") var storageWorkers = 2
    @Option(name: .customLong("set"), help: "A setting of the started system, as chatd's --set key=value (repeatable).")
    var settings: [String] = []

    func run() throws {
        // A flood needs descriptors on this side too.
        FileDescriptorLimit.raiseToHardLimit()
        // Every refusal would be logged as a warning: quiet, unless --set log_level says otherwise.
        let system = try SystemUnderTest(settings: ["log_level=\"error\""] + settings, storageWorkers: storageWorkers)
        ProcessStats.supervisor.withLock { $0 = system.supervisorPID }
        defer { system.stop() }
        let processes = ProcessStats.chatdProcesses()
        guard let gateway = processes.first(where: { $0.role == "gateway" }), let auth = processes.first(where: { $0.role == "auth" }) else {
            throw ValidationError("no gateway or auth process under chatd \(system.supervisorPID)")
        }
        var options = AbuseBenchmark.Options()
        options.port = system.port
        options.stormConnections = stormConnections
        options.stormSeconds = stormSeconds
        options.floodConnections = floodConnections
        options.floodAddresses = floodAddresses
        options.floodHoldSeconds = floodSeconds
        options.slowReaders = slowReaders
        options.slowReaderSeconds = slowReaderSeconds
        let benchmark = AbuseBenchmark(options: options, gatewayPID: gateway.pid, authPID: auth.pid)
        try benchmark.prepare()

        print("== abuse: chatd defaults\(settings.isEmpty ? "" : " with " + settings.joined(separator: ", "))")
        let baseline = benchmark.baseline()
        print(line("baseline", baseline))
        let median = baseline.bystanderMillis.sorted()[baseline.bystanderMillis.count / 2]

        let (storm, recovery) = benchmark.storm(baselineMillis: median)
        print(line("storm (\(stormConnections) connections from 127.0.0.2, \(Int(stormSeconds)) s)", storm))
        print("  recovered: " + (recovery.map { String(format: "%.1f s after the storm stopped", $0) } ?? "not within 120 s"))

        let flood = benchmark.flood()
        print(line("flood (\(floodConnections) connections from \(floodAddresses) addresses, held \(Int(floodSeconds)) s)", flood))

        let slow = try benchmark.slowReaders()
        print(line("slow readers (\(slowReaders) never read, \(Int(slowReaderSeconds)) s of 60 KB texts)", slow))
    }

    private func line(_ title: String, _ phase: AbuseBenchmark.Phase) -> String {
        let sorted = phase.bystanderMillis.sorted()
        func percentile(_ p: Double) -> String {
            sorted.isEmpty ? "-" : String(format: "%.0f ms", sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))])
        }
        var text = "\(title)\n  bystander sign-in: \(sorted.count) ok, \(phase.bystanderFailures) failed; p50 \(percentile(0.5)), p90 \(percentile(0.9)), max \(percentile(1))"
        if phase.gatewayCPUPercent > 0 || phase.gatewayResidentMiB > 0 {
            text += String(format: "\n  gateway: %.0f%% CPU, RSS %.0f MiB (peak %.0f MiB); auth: %.0f%% CPU",
                           phase.gatewayCPUPercent, phase.gatewayResidentMiB, phase.gatewayPeakMiB, phase.authCPUPercent)
        }
        for note in phase.notes.prefix(8) { text += "\n  " + note }
        return text
    }

}
