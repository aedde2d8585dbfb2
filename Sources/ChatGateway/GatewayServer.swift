import ChatBus
import ChatRuntime
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The front acceptor: a SwiftNIO TCP server that owns every client connection and turns
/// commands into bus requests. It holds no user data.
public final class GatewayServer: Sendable {
    private enum Lifecycle {
        case starting
        case listening(Channel)
        /// `stop()` was called; a server still starting closes as soon as it listens.
        case stopped
    }

    private let configuration: ChatConfiguration
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let registry = SessionRegistry()
    private let metrics = GatewayMetrics()
    /// `run` on its thread and `stop` on a signal's agree on it under the lock.
    private let lifecycle = Mutex(Lifecycle.starting)

    public init(configuration: ChatConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.gatewayThreads > 0 ? configuration.gatewayThreads : System.coreCount)
    }

    /// Binds the client port and serves until `stop()`.
    public func run() throws {
        let outputs = OutputBatches(group: group)
        let bus = try GatewayBus(configuration: configuration, registry: registry, outputs: outputs,
                                 sessionsOnline: metrics.sessionsOnline, logger: logger)
        bus.start()

        let settings = ClientSession.Settings(
            loginTimeout: .seconds(Int64(configuration.loginTimeoutSeconds)),
            partialLineTimeout: .seconds(Int64(configuration.partialLineTimeoutSeconds)),
            minUploadBytesPerSecond: configuration.minUploadBytesPerSecond,
            dataAnswerTimeout: .seconds(Int64(configuration.dataAnswerTimeoutSeconds)),
            maxFileBytes: configuration.maxFileBytes,
            sendLocalFiles: configuration.sendLocalFiles,
            maxUnsentOutput: configuration.maxQueuedOutputBytesPerConnection,
            relayIdleTimeout: .seconds(Int64(configuration.relayIdleTimeoutSeconds)),
            relayMaxBytes: configuration.relayMaxBytes,
            historyPageBytes: configuration.historyPageBytes,
            messagesPerSecond: configuration.messagesPerSecond,
            messageBurst: configuration.messageBurst)
        let outputBudget = OutputBudget(limit: configuration.maxQueuedOutputBytes)
        let registry = registry
        let logger = logger
        let nextConnectionId = ConnectionCounter()
        let relays = RelayRegistry()
        let admission = makeAdmission()

        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
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
                guard admission.admit(id, from: channel.remoteAddress) == .admitted else {
                    return channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ConnectionRefusal()) }
                }
                // Whatever ends the connection, even before it is active, lets go of its place.
                channel.closeFuture.whenComplete { _ in admission.closed(id) }
                let connection = ClientConnection(id: id, channel: channel, bus: bus, registry: registry, relays: relays,
                                                  outputBatch: outputs.batch(for: channel.eventLoop), outputBudget: outputBudget,
                                                  settings: settings, admission: admission, logger: logger)
                return channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(connection) }
            }
        let channel = try bootstrap.bind(host: configuration.host, port: configuration.port).wait()
        let wasStopped = lifecycle.withLock { state in
            if case .stopped = state { return true }
            state = .listening(channel)
            return false
        }
        if wasStopped { channel.close(promise: nil) }
        logger.info("gateway listening", metadata: [
            "gateway.address": "\(channel.localAddress.map { "\($0)" } ?? "?")",
            "gateway.id": "\(bus.gatewayId)",
        ])
        try channel.closeFuture.wait()
        bus.stop()
        try? group.syncShutdownGracefully()
    }

    /// The connection limits, with the total cap kept below the descriptor limit, both logged.
    private func makeAdmission() -> ConnectionAdmission {
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
        let limits = ConnectionLimits(maxConnections: cap, maxUnauthenticatedPerAddress: configuration.maxUnauthenticatedPerAddress)
        return ConnectionAdmission(limits: limits, metrics: metrics, logger: logger)
    }

    /// Stops accepting and closes every connection; callable from any thread, at any time,
    /// even before the server listens.
    public func stop() {
        let listening = lifecycle.withLock { state -> Channel? in
            defer { state = .stopped }
            if case .listening(let channel) = state { return channel }
            return nil
        }
        listening?.close(promise: nil)
    }
}

/// Connection ids, unique within one gateway process.
final class ConnectionCounter: Sendable {
    private let value = Atomic<UInt64>(0)

    func next() -> UInt64 {
        value.wrappingAdd(1, ordering: .relaxed).newValue
    }
}
