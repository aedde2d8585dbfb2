import ArgumentParser
import ChatAuth
import ChatGateway
import ChatMonitoring
import ChatRouter
import ChatRuntime
import ChatStorage
import ChatSupervisor
import ChatTelemetry
import Foundation
import Logging

@main
struct Chatd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chatd",
        abstract: "The chat server: a supervisor and the processes it runs.",
        subcommands: [Supervise.self, Gateway.self, Auth.self, Router.self, Storage.self, Backup.self, Status.self, Reload.self],
        defaultSubcommand: Supervise.self)
}

/// Options every child role takes from the supervisor.
struct ChildOptions: ParsableArguments {
    @OptionGroup var configuration: ConfigurationOptions
    @Option(name: .customLong("parent-pid"), help: "Stop, as on SIGTERM, when this process (the supervisor) is gone.")
    var parentPid: Int32?

    func prepare(role: String) throws -> (ChatConfiguration, Logger) {
        let resolved = try configuration.resolve()
        ProcessLifecycle.bootstrapLogging(level: resolved.logLevel)
        FileDescriptorLimit.raiseToHardLimit()
        let logger = Logger(label: "chatd.\(role)")
        if let parentPid { ProcessLifecycle.terminateWhenParentDies(expectedParent: parentPid, logger: logger) }
        // A hang-up sent to the whole process group (a closed terminal) leaves the workers running too.
        ProcessLifecycle.onReloadSignal(logger: logger) {}
        let registry = ProcessMetrics.bootstrap()
        try TelemetryReporter(endpoint: resolved.resolvedTelemetryEndpoint, process: role,
                              interval: .milliseconds(resolved.telemetryIntervalMilliseconds), logger: logger) {
            registry.emitToString()
        }.start()
        return (resolved, logger)
    }

    /// Runs a role. An error that stops it is logged with the time and the role (a bare
    /// `Error: zmq_bind(...)` names neither, and children share one standard error), and
    /// the process exits 1 for the supervisor to see.
    func run(role: String, _ body: (ChatConfiguration, Logger) throws -> Void) throws {
        let (configuration, logger) = try prepare(role: role)
        do {
            try body(configuration, logger)
        } catch {
            logger.critical("stopped by an error", metadata: ["chatd.error": "\(error)"])
            throw ExitCode.failure
        }
    }
}

struct Supervise: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start and keep running the whole system (the default).")
    @OptionGroup var configuration: ConfigurationOptions
    @Option(name: .customLong("exit-with-parent"), help: "Stop everything, as on SIGTERM, when this process is gone (for test harnesses).")
    var watchedParent: Int32?

    func run() throws {
        let resolved = try configuration.resolve()
        ProcessLifecycle.bootstrapLogging(level: resolved.logLevel)
        let logger = Logger(label: "chatd.supervisor")
        if let watchedParent { ProcessLifecycle.terminateWhenParentDies(expectedParent: watchedParent, logger: logger) }
        try FileManager.default.createDirectory(atPath: resolved.dataDirectory, withIntermediateDirectories: true)
        let adminPath = AdminServer.path(dataDirectory: resolved.dataDirectory)
        try AdminServer.refuseIfInUse(path: adminPath)
        let telemetry = try TelemetryCollector(endpoint: resolved.resolvedTelemetryEndpoint, logger: logger)
        let passed = configuration.asArguments + ["--parent-pid", String(getpid())]
        let storage = resolved.storageEndpoints.indices.map {
            ChildSpec(name: "storage-\($0)", arguments: ["storage", "--index", String($0)] + passed)
        }
        let children = [ChildSpec(name: "auth", arguments: ["auth"] + passed)] + storage + [
            ChildSpec(name: "router", arguments: ["router"] + passed),
            ChildSpec(name: "gateway", arguments: ["gateway"] + passed),
        ]
        let supervisor = Supervisor(
            executable: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath(),
            children: children,
            policy: RestartPolicy(maxRestarts: resolved.maxRestarts, windowSeconds: Double(resolved.restartWindowSeconds),
                                  maxBackoffSeconds: Double(resolved.maxBackoffSeconds)),
            graceSeconds: Double(resolved.shutdownGraceSeconds),
            logger: logger)
        ProcessLifecycle.onTerminationSignal(logger: logger) { supervisor.stop() }
        ProcessLifecycle.onReloadSignal(logger: logger) {
            // Re-reading the config file and applying what can change live is still to come (issue 15).
            logger.notice("reload not implemented yet; configuration unchanged, nothing restarted")
        }
        // Reports are due every interval: one three intervals old is from a process gone silent.
        let system = MonitoredSystem(childStates: { supervisor.states() }, telemetry: telemetry,
                                     reportMaxAge: 3 * UInt64(resolved.telemetryIntervalMilliseconds) * 1_000_000)
        let admin = try AdminServer(path: adminPath, system: system,
                                    onReload: { "reload is not implemented yet" }, logger: logger)
        logger.info("starting", metadata: ["chatd.port": "\(resolved.port)", "chatd.data_dir": "\(resolved.dataDirectory)"])
        withExtendedLifetime(telemetry) { supervisor.run() }
        admin.stop()
    }
}

struct Gateway: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the client-facing gateway (started by the supervisor).")
    @OptionGroup var options: ChildOptions

    func run() throws {
        try options.run(role: "gateway") { configuration, logger in
            let server = GatewayServer(configuration: configuration, logger: logger)
            ProcessLifecycle.onTerminationSignal(logger: logger) { server.stop() }
            try server.run()
        }
    }
}

struct Auth: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the auth worker (started by the supervisor).")
    @OptionGroup var options: ChildOptions

    func run() throws {
        try options.run(role: "auth") { configuration, logger in
            let service = AuthService(configuration: configuration, logger: logger)
            ProcessLifecycle.onTerminationSignal(logger: logger) { service.stop() }
            try service.run()
        }
    }
}

struct Router: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the message router (started by the supervisor).")
    @OptionGroup var options: ChildOptions

    func run() throws {
        try options.run(role: "router") { configuration, logger in
            let service = RouterService(configuration: configuration, logger: logger)
            ProcessLifecycle.onTerminationSignal(logger: logger) { service.stop() }
            try service.run()
        }
    }
}

struct Storage: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run one storage worker (started by the supervisor).")
    @OptionGroup var options: ChildOptions
    @Option(help: "Which entry of storage.endpoints this worker binds; it owns partitions p with p % workers == index.")
    var index: Int

    func run() throws {
        try options.run(role: "storage-\(index)") { configuration, logger in
            let service = StorageService(configuration: configuration, index: index, logger: logger)
            ProcessLifecycle.onTerminationSignal(logger: logger) { service.stop() }
            try service.run()
        }
    }
}
