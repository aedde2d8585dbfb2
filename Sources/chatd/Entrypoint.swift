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

    func prepare(role: String) throws -> (ChatConfiguration, Logger, ConfigurationReload) {
        let resolved = try configuration.resolve()
        ProcessLifecycle.bootstrapLogging(resolved)
        FileDescriptorLimit.raiseToHardLimit()
        let logger = Logger(label: "chatd.\(role)")
        if let parentPid { ProcessLifecycle.terminateWhenParentDies(expectedParent: parentPid, logger: logger) }
        // The supervisor forwards its reloads as SIGHUP; a hang-up sent to the whole process
        // group (a closed terminal) is one too, and leaves the workers running.
        let reload = ConfigurationReload(source: configuration.source, current: resolved, logger: logger, needsRestartLevel: .debug)
        reload.whenReloaded { ProcessLifecycle.logSettings.update(from: $0) }
        ProcessLifecycle.onReloadSignal(logger: logger) { reload.reload() }
        let registry = ProcessMetrics.bootstrap()
        // A supervised child is known by its role, which is unique under its supervisor. A role
        // run on its own may have namesakes (two gateways on two machines): its pid tells them apart.
        let processName = parentPid == nil ? "\(role)-\(getpid())" : role
        try TelemetryReporter(endpoint: resolved.resolvedTelemetryEndpoint, process: processName,
                              interval: .milliseconds(resolved.telemetryIntervalMilliseconds), logger: logger) {
            registry.emitToString()
        }.start()
        return (resolved, logger, reload)
    }

    /// Runs a role, which tells `ConfigurationReload` what of it a reload changes. An error
    /// that stops it is logged with the time and the role (a bare `Error: zmq_bind(...)` names
    /// neither, and children share one standard error), and the process exits 1 for the
    /// supervisor to see.
    func run(role: String, _ body: (ChatConfiguration, Logger, ConfigurationReload) throws -> Void) throws {
        let (configuration, logger, reload) = try prepare(role: role)
        do {
            try body(configuration, logger, reload)
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
        ProcessLifecycle.bootstrapLogging(resolved)
        let logger = Logger(label: "chatd.supervisor")
        if let watchedParent { ProcessLifecycle.terminateWhenParentDies(expectedParent: watchedParent, logger: logger) }
        let metricsAddress = try ListenAddress.parse(resolved.metricsListen)
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
            policy: RestartPolicy(resolved),
            graceSeconds: Double(resolved.shutdownGraceSeconds),
            logger: logger)
        ProcessLifecycle.onTerminationSignal(logger: logger) { supervisor.stop() }
        // SIGHUP and `chatd reload` both reload through `reload`: it re-reads the configuration,
        // applies the supervisor's live settings, and has every child do the same.
        let reload = ConfigurationReload(source: configuration.source, current: resolved, logger: logger)
        reload.whenReloaded { ProcessLifecycle.logSettings.update(from: $0) }
        reload.whenReloaded { configuration in
            supervisor.adopt(policy: RestartPolicy(configuration), graceSeconds: Double(configuration.shutdownGraceSeconds))
            // Each child re-reads the same options itself: nothing is restarted, no connection dropped.
            supervisor.signalChildren(SIGHUP)
        }
        ProcessLifecycle.onReloadSignal(logger: logger) { reload.reload() }
        let health = HealthCheck(telemetryIntervalMilliseconds: resolved.telemetryIntervalMilliseconds)
        // Past the health rule's silence limit a report is from a process gone silent.
        let system = MonitoredSystem(childStates: { supervisor.states() }, telemetry: telemetry,
                                     reportMaxAge: UInt64(health.silenceLimitSeconds * 1e9))
        // `chatd reload` exits 1 on an answer starting `error:`.
        let admin = try AdminServer(path: adminPath, system: system, onReload: {
            let outcome = reload.reload()
            return (outcome.succeeded ? "" : "error: ") + outcome.summary.joined(separator: "\n")
        }, logger: logger)
        logger.info("starting", metadata: ["chatd.port": "\(resolved.port)", "chatd.data_dir": "\(resolved.dataDirectory)"])
        let metrics = metricsAddress.flatMap { serveMetrics(at: $0, system: system, health: health, logger: logger) }
        withExtendedLifetime((telemetry, metrics)) { supervisor.run() }
        admin.stop()
    }

    /// The metrics endpoint, or nil when its address cannot be bound: metrics are for watching
    /// the chat service, and a port taken by something else should not keep it from running.
    /// The error is logged, and the service runs unwatched until restarted with a free port.
    private func serveMetrics(at address: ListenAddress, system: MonitoredSystem, health: HealthCheck, logger: Logger) -> MetricsServer? {
        let server = MetricsServer(system: system, health: health, now: Supervisor.now, logger: logger)
        do {
            try server.start(at: address)
            return server
        } catch {
            logger.error("metrics endpoint not started; the chat service runs without it", metadata: [
                "metrics.address": "\(address.host):\(address.port)", "metrics.error": "\(error)",
            ])
            server.stop()
            return nil
        }
    }
}

struct Gateway: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the client-facing gateway (started by the supervisor).")
    @OptionGroup var options: ChildOptions

    func run() throws {
        try options.run(role: "gateway") { configuration, logger, reload in
            let server = GatewayServer(configuration: configuration, logger: logger)
            reload.whenReloaded { server.apply($0) }
            ProcessLifecycle.onTerminationSignal(logger: logger) { server.stop() }
            try server.run()
        }
    }
}

struct Auth: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the auth worker (started by the supervisor).")
    @OptionGroup var options: ChildOptions

    func run() throws {
        try options.run(role: "auth") { configuration, logger, reload in
            let service = AuthService(configuration: configuration, logger: logger)
            reload.whenReloaded { service.apply($0) }
            ProcessLifecycle.onTerminationSignal(logger: logger) { service.stop() }
            try service.run()
        }
    }
}

struct Router: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the message router (started by the supervisor).")
    @OptionGroup var options: ChildOptions

    func run() throws {
        try options.run(role: "router") { configuration, logger, reload in
            let service = RouterService(configuration: configuration, logger: logger)
            reload.whenReloaded { service.apply($0) }
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
        // Storage has no live setting but the log's, which every role takes.
        try options.run(role: "storage-\(index)") { configuration, logger, _ in
            let service = StorageService(configuration: configuration, index: index, logger: logger)
            ProcessLifecycle.onTerminationSignal(logger: logger) { service.stop() }
            try service.run()
        }
    }
}
