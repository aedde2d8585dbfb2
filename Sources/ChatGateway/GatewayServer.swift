import ChatBus
import ChatRuntime
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The front acceptor: a SwiftNIO TCP server that owns every client connection and turns
/// commands into bus requests. It holds no user data. It listens on the plaintext port
/// (`gateway.port`, unless 0) and, with a certificate configured, on the TLS port
/// (`gateway.tls_port`): the same protocol, the same sessions, inside TLS.
public final class GatewayServer: Sendable {
    private enum Lifecycle {
        case starting
        case listening([Channel])
        /// `stop()` was called; a server still starting closes as soon as it listens.
        case stopped
    }

    private let configuration: ChatConfiguration
    private let security: BusSecurity
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let registry = SessionRegistry()
    private let metrics: GatewayMetrics
    /// `run` on its thread and `stop` on a signal's agree on it under the lock.
    private let lifecycle = Mutex(Lifecycle.starting)
    /// What each new connection's session starts with; a reload replaces it. Read once per
    /// connection, never per message.
    private let sessionSettings: Mutex<ClientSession.Settings>
    private let outputBudget: OutputBudget
    private let admission: ConnectionAdmission
    /// The TLS port's certificate once `run` has read it, for a reload to read again.
    private let tls = Mutex<ClientTLS?>(nil)
    /// The bus once `run` has made it, for a reload to reach.
    private let runningBus = Mutex<GatewayBus?>(nil)
    /// The connection settings the admission was last given, so that a reload that leaves
    /// them as they were neither recomputes nor logs them again.
    private let connectionSettings: Mutex<[Int]>

    /// `security`: the bus's (`BusSecurity.load`).
    public init(configuration: ChatConfiguration, security: BusSecurity, logger: Logger) {
        self.security = security
        self.configuration = configuration
        self.logger = logger
        group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.gatewayThreads > 0 ? configuration.gatewayThreads : System.coreCount)
        sessionSettings = Mutex(ClientSession.Settings(configuration))
        outputBudget = OutputBudget(limit: configuration.maxQueuedOutputBytes)
        let metrics = GatewayMetrics()
        self.metrics = metrics
        admission = ConnectionAdmission(limits: Self.connectionLimits(configuration, logger: logger), metrics: metrics, logger: logger)
        connectionSettings = Mutex([configuration.maxConnections, configuration.maxUnauthenticatedPerAddress])
    }

    /// Takes the live settings of a reload: new connections get the new session limits (the
    /// open ones keep theirs), and the gateway-wide limits change at once.
    public func apply(_ configuration: ChatConfiguration) {
        // A reload on the supervisor's machine may come with a new partition map (storage
        // workers added or removed): taken at once, not learned from the first request it moves.
        runningBus.withLock { $0 }?.reloadPartitionMap(dataDirectory: configuration.dataDirectory)
        sessionSettings.withLock { $0 = ClientSession.Settings(configuration) }
        if configuration.servesTLS, let tls = tls.withLock({ $0 }) {
            do {
                try tls.reload(certificate: configuration.tlsCertificate, privateKey: configuration.tlsPrivateKey)
                logger.notice("TLS certificate read again; new connections use it", metadata: ["gateway.tls_certificate": "\(configuration.tlsCertificate)"])
            } catch {
                logger.error("TLS certificate not reloaded; the one in force stays", metadata: ["gateway.error": "\(error)"])
            }
        }
        outputBudget.limit = configuration.maxQueuedOutputBytes
        let wanted = [configuration.maxConnections, configuration.maxUnauthenticatedPerAddress]
        guard connectionSettings.withLock({ applied in defer { applied = wanted }; return applied != wanted }) else { return }
        let limits = Self.connectionLimits(configuration, logger: logger)
        admission.change(maxConnections: limits.maxConnections, maxUnauthenticatedPerAddress: limits.maxUnauthenticatedPerAddress)
    }

    /// Whether `configuration`'s client ports can be served, its TLS files read included:
    /// throws why not. The supervisor asks before it starts anything, so a gateway that could
    /// not start is not restarted for ever.
    public static func checkClientPorts(_ configuration: ChatConfiguration) throws {
        if let problem = configuration.clientPortsProblem { throw ConfigurationError(problem) }
        if configuration.servesTLS { try ClientTLS.check(certificate: configuration.tlsCertificate, privateKey: configuration.tlsPrivateKey) }
    }

    /// Binds the client port and serves until `stop()`.
    public func run() throws {
        if let problem = configuration.clientPortsProblem { throw ConfigurationError(problem) }
        let tls = configuration.servesTLS
            ? try ClientTLS(certificate: configuration.tlsCertificate, privateKey: configuration.tlsPrivateKey, logger: logger) : nil
        self.tls.withLock { $0 = tls }

        let outputs = OutputBatches(group: group)
        let bus = try GatewayBus(configuration: configuration, security: security, registry: registry, outputs: outputs,
                                 sessionsOnline: metrics.sessionsOnline, logger: logger)
        bus.start()
        runningBus.withLock { $0 = bus }

        let outputBudget = outputBudget
        let registry = registry
        let logger = logger
        let nextConnectionId = ConnectionCounter()
        let relays = RelayRegistry()
        let admission = admission

        /// A listener whose connections go through `tls` first, when given.
        func bootstrap(tls: ClientTLS?) -> ServerBootstrap {
            ServerBootstrap(group: group)
                // As deep as the kernel allows (net.core.somaxconn caps it): every client of a
                // restarted gateway comes back within the same second, and a connection the
                // full queue dropped waits a whole second for its SYN to be retried.
                .serverChannelOption(.backlog, value: 65_535)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(AcceptPauseHandler(logger: logger))
                    }
                }
                .childChannelOption(.socketOption(.so_keepalive), value: 1)
                .childChannelOption(.socket(IPPROTO_TCP, TCP_KEEPIDLE), value: 60)
                .childChannelOption(.socket(IPPROTO_TCP, TCP_KEEPINTVL), value: 10)
                .childChannelOption(.socket(IPPROTO_TCP, TCP_KEEPCNT), value: 6)
                .childChannelOption(.socket(IPPROTO_TCP, TCP_NODELAY), value: 1)
                .childChannelInitializer { channel in
                    let id = nextConnectionId.next()
                    let admitted = admission.admit(id, from: channel.remoteAddress) == .admitted
                    if admitted {
                        // Whatever ends the connection, even before it is active, lets go of its place.
                        channel.closeFuture.whenComplete { _ in admission.closed(id) }
                    }
                    var settings = self.sessionSettings.withLock { $0 }
                    // A stored file cannot go out with sendfile through TLS: it is streamed.
                    if tls != nil { settings.sendLocalFiles = false }
                    return channel.eventLoop.makeCompletedFuture {
                        if let tls { try channel.pipeline.syncOperations.addHandlers(tls.serverHandlers()) }
                        guard admitted else { return try channel.pipeline.syncOperations.addHandler(ConnectionRefusal()) }
                        let connection = ClientConnection(id: id, channel: channel, bus: bus, registry: registry, relays: relays,
                                                          outputBatch: outputs.batch(for: channel.eventLoop), outputBudget: outputBudget,
                                                          settings: settings, admission: admission, logger: logger)
                        try channel.pipeline.syncOperations.addHandler(connection)
                    }
                }
        }
        var channels: [Channel] = []
        if configuration.port != 0 { channels.append(try bootstrap(tls: nil).bind(host: configuration.host, port: configuration.port).wait()) }
        if let tls { channels.append(try bootstrap(tls: tls).bind(host: configuration.host, port: configuration.tlsPort).wait()) }
        let wasStopped = lifecycle.withLock { state in
            if case .stopped = state { return true }
            state = .listening(channels)
            return false
        }
        if wasStopped { for channel in channels { channel.close(promise: nil) } }
        for (channel, isTLS) in zip(channels, configuration.port != 0 ? [false, true] : [true]) {
            logger.info(isTLS ? "gateway listening for TLS" : "gateway listening", metadata: [
                "gateway.address": "\(channel.localAddress.map { "\($0)" } ?? "?")",
                "gateway.id": "\(bus.gatewayId)",
            ])
        }
        for channel in channels { try channel.closeFuture.wait() }
        bus.stop()
        try? group.syncShutdownGracefully()
    }

    /// The connection limits, with the total cap kept below the descriptor limit, both logged.
    private static func connectionLimits(_ configuration: ChatConfiguration, logger: Logger) -> ConnectionLimits {
        let descriptorLimit = FileDescriptorLimit.current ?? 1024
        let cap = ConnectionCap.effective(configured: configuration.maxConnections, descriptorLimit: descriptorLimit)
        if configuration.maxConnections > cap {
            logger.warning("gateway.max_connections lowered to stay below the file-descriptor limit", metadata: [
                "gateway.max_connections": "\(configuration.maxConnections)", "gateway.connection_cap": "\(cap)",
            ])
        }
        logger.info("connection limits", metadata: [
            "gateway.descriptor_limit": "\(descriptorLimit)",
            "gateway.connection_cap": "\(cap)",
            "gateway.max_unauthenticated_per_address": "\(configuration.maxUnauthenticatedPerAddress)",
        ])
        return ConnectionLimits(maxConnections: cap, maxUnauthenticatedPerAddress: configuration.maxUnauthenticatedPerAddress)
    }

    /// Stops accepting and closes every connection; callable from any thread, at any time,
    /// even before the server listens.
    public func stop() {
        let listening = lifecycle.withLock { state -> [Channel] in
            defer { state = .stopped }
            if case .listening(let channels) = state { return channels }
            return []
        }
        for channel in listening { channel.close(promise: nil) }
    }
}

/// Connection ids, unique within one gateway process.
final class ConnectionCounter: Sendable {
    private let value = Atomic<UInt64>(0)

    func next() -> UInt64 {
        value.wrappingAdd(1, ordering: .relaxed).newValue
    }
}
