import ArgumentParser
import ChatAuth
import ChatBus
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
        subcommands: [Supervise.self, Gateway.self, Auth.self, Router.self, Storage.self, Monitor.self, Backup.self, Status.self, Reload.self, Partitions.self, Keys.self, Migrate.self],
        defaultSubcommand: Supervise.self)
}

/// Options every child role takes from the supervisor.
struct ChildOptions: ParsableArguments {
    @OptionGroup var configuration: ConfigurationOptions
    @Option(name: .customLong("parent-pid"), help: "Stop, as on SIGTERM, when this process (the supervisor) is gone.")
    var parentPid: Int32?

    func prepare(role: String) throws -> (ChatConfiguration, Logger, ConfigurationReload) {
        // Before anything else: a reload the supervisor forwards while this process starts
        // must not end it (SIGHUP's default), only wait for the handler below.
        signal(SIGHUP, SIG_IGN)
        let resolved = try configuration.resolve()
        ProcessLifecycle.bootstrapLogging(resolved)
        FileDescriptorLimit.raiseToHardLimit()
        FileDescriptorLimit.closeInheritedPastLimit()
        let logger = Logger(label: "chatd.\(role)")
        if let parentPid { ProcessLifecycle.terminateWhenParentDies(expectedParent: parentPid, logger: logger) }
        // The supervisor forwards its reloads as SIGHUP; a hang-up sent to the whole process
        // group (a closed terminal) is one too, and leaves the workers running.
        let reload = ConfigurationReload(source: configuration.source, current: resolved, logger: logger, needsRestartLevel: .debug)
        reload.whenReloaded { ProcessLifecycle.logSettings.update(from: $0) }
        ProcessLifecycle.onReloadSignal(logger: logger) { reload.reload() }
        return (resolved, logger, reload)
    }

    /// Starts sending this process's figures to the supervisor (or `chatd monitor`).
    func reportTelemetry(role: String, _ configuration: ChatConfiguration, logger: Logger) throws {
        let registry = ProcessMetrics.bootstrap()
        // A supervised child is known by its role, which is unique under its supervisor. A role
        // run on its own may have namesakes (two gateways on two machines): its pid tells them apart.
        let processName = parentPid == nil ? "\(role)-\(getpid())" : role
        try TelemetryReporter(endpoint: configuration.resolvedTelemetryEndpoint, process: processName,
                              interval: .milliseconds(configuration.telemetryIntervalMilliseconds), logger: logger,
                              isStuck: { BusLoop.isStuck(for: .seconds(5)) || WorkInProgress.anyLongerThan(.seconds(5)) }) {
            registry.emitToString()
        }.start()
    }

    /// Runs a role, which tells `ConfigurationReload` what of it a reload changes. An error
    /// that stops it is logged with the time and the role (a bare `Error: zmq_bind(...)` names
    /// neither, and children share one standard error), and the process exits 1 for the
    /// supervisor to see.
    func run(role: String, _ body: (ChatConfiguration, Logger, ConfigurationReload) throws -> Void) throws {
        let (configuration, logger, reload) = try prepare(role: role)
        do {
            try reportTelemetry(role: role, configuration, logger: logger)
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
        // Before anything else: a reload (`systemctl reload`) while this starts must not end it.
        signal(SIGHUP, SIG_IGN)
        FileDescriptorLimit.closeInheritedPastLimit()
        let resolved = try configuration.resolve()
        ProcessLifecycle.bootstrapLogging(resolved)
        let logger = Logger(label: "chatd.supervisor")
        // Refused here, once, rather than by a gateway the supervisor would restart for ever.
        try GatewayServer.checkClientPorts(resolved)
        if let problem = resolved.backendsProblem { throw ConfigurationError(problem) }
        if let watchedParent { ProcessLifecycle.terminateWhenParentDies(expectedParent: watchedParent, logger: logger) }
        let telemetry = try MonitoringEndpoints.collectTelemetry(resolved, logger: logger)
        if resolved.busCurve {
            // The system's bus key, made on the first start; every child reads it.
            let path = BusKeyFile.path(inDataDirectory: resolved.dataDirectory)
            if try BusKeyFile.create(at: path).created { logger.notice("made the bus key", metadata: ["chatd.key": "\(path)"]) }
        }
        // Children read the configuration as resolved here, not the operator's file (see
        // `EffectiveConfiguration`): a restarted one runs with what its siblings run with.
        try EffectiveConfiguration.write(resolved)
        let passed = ["--config", EffectiveConfiguration.path(dataDirectory: resolved.dataDirectory), "--parent-pid", String(getpid())]
        let children: @Sendable (ChatConfiguration) -> [ChildSpec] = { configuration in
            configuration.processNames.map { name in
                let role = if name.hasPrefix("storage-") {
                    ["storage", "--index", String(name.dropFirst("storage-".count))]
                } else if name.hasPrefix("auth-") {
                    ["auth", "--index", String(name.dropFirst("auth-".count))]
                } else {
                    [name]
                }
                return ChildSpec(name: name, arguments: role + passed)
            }
        }
        let supervisor = Supervisor(
            executable: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath(),
            children: children(resolved),
            policy: RestartPolicy(resolved),
            graceSeconds: Double(resolved.shutdownGraceSeconds),
            logger: logger)
        ProcessLifecycle.onTerminationSignal(logger: logger) { supervisor.stop() }
        // SIGHUP and `chatd reload` both reload through `reload`: it re-reads the configuration,
        // applies the supervisor's live settings, and has every child do the same.
        let reload = ConfigurationReload(source: configuration.source, current: resolved, logger: logger)
        reload.whenReloaded { ProcessLifecycle.logSettings.update(from: $0) }
        let storageLayout = StorageLayout(endpoints: resolved.storageEndpoints)
        reload.whenReloaded { configuration in
            supervisor.adopt(policy: RestartPolicy(configuration), graceSeconds: Double(configuration.shutdownGraceSeconds))
            // Storage workers added or removed: partitions move by a new map, written first, so
            // that every process reads it on the SIGHUP below and new workers at their start.
            let scaled: Bool
            do {
                scaled = try storageLayout.follow(configuration, logger: logger)
            } catch {
                return logger.error("reload: cannot write the new partition map; storage left as it was", metadata: [
                    "reload.error": "\(error)",
                ])
            }
            // The live changes go to the children's file, which each re-reads on SIGHUP: nothing
            // is restarted, no connection dropped. Unwritten, the children are left as they are.
            do {
                try EffectiveConfiguration.write(configuration)
            } catch {
                return logger.error("reload: cannot write the children's configuration; they keep theirs", metadata: [
                    "reload.error": "\(error)",
                ])
            }
            supervisor.signalChildren(SIGHUP)
            // A removed worker lets its partitions go on that SIGHUP and answers with the new map
            // for a request timeout and a second more, for gateways elsewhere to learn it.
            if scaled { supervisor.reconcile(children(configuration), retireAfter: Double(configuration.requestTimeoutMilliseconds) / 1000 + 1) }
        }
        ProcessLifecycle.onReloadSignal(logger: logger) { reload.reload() }
        let health = HealthCheck(telemetryIntervalMilliseconds: resolved.telemetryIntervalMilliseconds)
        // Past the health rule's silence limit a report is from a process gone silent.
        let system = MonitoredSystem(childStates: { supervisor.states() }, telemetry: telemetry,
                                     reportMaxAge: UInt64(health.silenceLimitSeconds * 1e9))
        let endpoints = try MonitoringEndpoints.open(system, health: health, configuration: resolved, reload: reload, logger: logger)
        logger.info("starting", metadata: ["chatd.port": "\(resolved.port)", "chatd.data_dir": "\(resolved.dataDirectory)"])
        withExtendedLifetime(telemetry) { supervisor.run() }
        endpoints.close()
    }
}

/// What the supervisor shows of its children, for roles run on their own ("Spreading
/// processes over machines"), which nobody supervises: status, metrics and health of every
/// process that reports to its telemetry endpoint.
struct Monitor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Watch roles run on their own: status, metrics and health, without starting any.",
        discussion: "Binds telemetry.endpoint (every role's telemetry.endpoint must reach it), the admin socket in the data folder and metrics.listen.")
    @OptionGroup var configuration: ConfigurationOptions

    func run() throws {
        // Before anything else: a reload (`systemctl reload`) while this starts must not end it.
        signal(SIGHUP, SIG_IGN)
        let resolved = try configuration.resolve()
        ProcessLifecycle.bootstrapLogging(resolved)
        let logger = Logger(label: "chatd.monitor")
        let telemetry = try MonitoringEndpoints.collectTelemetry(resolved, logger: logger)
        let reload = ConfigurationReload(source: configuration.source, current: resolved, logger: logger)
        reload.whenReloaded { ProcessLifecycle.logSettings.update(from: $0) }
        ProcessLifecycle.onReloadSignal(logger: logger) { reload.reload() }
        let health = HealthCheck(telemetryIntervalMilliseconds: resolved.telemetryIntervalMilliseconds)
        let system = MonitoredSystem(childStates: { [] }, telemetry: telemetry, reportMaxAge: UInt64(health.silenceLimitSeconds * 1e9),
                                     expectedRoles: resolved.processNames, watchingSince: Supervisor.now())
        // It applies only its own log settings: each role reloads itself, on its own machine.
        let endpoints = try MonitoringEndpoints.open(system, health: health, configuration: resolved, reload: reload,
                                                     reloadNote: "the monitor applies log_level and log_format only; "
                                                         + "each role reloads itself (SIGHUP, systemctl reload chatd-<role>)",
                                                     logger: logger)
        let stopped = DispatchSemaphore(value: 0)
        ProcessLifecycle.onTerminationSignal(logger: logger) { stopped.signal() }
        logger.info("monitoring", metadata: ["telemetry.endpoint": "\(resolved.resolvedTelemetryEndpoint)", "chatd.data_dir": "\(resolved.dataDirectory)"])
        withExtendedLifetime(telemetry) { stopped.wait() }
        endpoints.close()
    }
}

struct Gateway: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the client-facing gateway (started by the supervisor).")
    @OptionGroup var options: ChildOptions

    func run() throws {
        try options.run(role: "gateway") { configuration, logger, reload in
            let server = GatewayServer(configuration: configuration, security: try configuration.busSecurity(), logger: logger)
            reload.whenReloaded { server.apply($0) }
            ProcessLifecycle.onTerminationSignal(logger: logger) { server.stop() }
            try server.run()
        }
    }
}

struct Auth: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run an auth worker (started by the supervisor).")
    @OptionGroup var options: ChildOptions
    @Option(help: "Which entry of auth.endpoints this worker binds (0 with a single auth.endpoint).")
    var index: Int?

    func run() throws {
        try options.run(role: index.map { "auth-\($0)" } ?? "auth") { configuration, logger, reload in
            let service = AuthService(configuration: configuration, index: index ?? 0, security: try configuration.busSecurity(), logger: logger)
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
            let service = RouterService(configuration: configuration, security: try configuration.busSecurity(), logger: logger)
            reload.whenReloaded { service.apply($0) }
            ProcessLifecycle.onTerminationSignal(logger: logger) { service.stop() }
            try service.run()
        }
    }
}

struct Storage: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run one storage worker (started by the supervisor).")
    @OptionGroup var options: ChildOptions
    @Option(help: "Which entry of storage.endpoints this worker binds; it owns the partitions the partition map gives that endpoint (p % workers == index unless history/partition-map says otherwise).")
    var index: Int

    func run() throws {
        // Storage has no live setting but the log's, which every role takes; a reload also has
        // it look for a newer partition map.
        try options.run(role: "storage-\(index)") { configuration, logger, reload in
            let service = StorageService(configuration: configuration, index: index, security: try configuration.busSecurity(), logger: logger)
            reload.whenReloaded { _ in service.reloadMap() }
            ProcessLifecycle.onTerminationSignal(logger: logger) { service.stop() }
            try service.run()
        }
    }
}
