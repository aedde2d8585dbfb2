import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The supervisor's HTTP endpoint for Prometheus and for health checks: `GET /metrics` and
/// `GET /healthz` (`EndpointResponse`), on one event loop of its own.
///
/// It must never hurt the chat service, whoever connects: one request per connection, at most
/// `maxRequestBytes` of it, answered within `connectionTimeout` or closed, at most
/// `maxConnections` at once (the rest closed as they come).
public final class MetricsServer: Sendable {
    public struct Limits: Sendable {
        public var maxConnections = 16
        public var maxRequestBytes = 8 << 10
        public var connectionTimeout: Duration = .seconds(10)

        public init() {}
    }

    private let system: MonitoredSystem
    private let health: HealthCheck
    private let now: @Sendable () -> Double
    private let limits: Limits
    private let logger: Logger
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let openConnections = Atomic<Int>(0)
    private let channel = Mutex<Channel?>(nil)

    /// `now` is the clock of the children's states and the telemetry, `Supervisor.now()`.
    public init(system: MonitoredSystem, health: HealthCheck, now: @escaping @Sendable () -> Double,
                limits: Limits = Limits(), logger: Logger) {
        self.system = system
        self.health = health
        self.now = now
        self.limits = limits
        self.logger = logger
    }

    /// Binds and starts serving in the background; throws when the address cannot be bound.
    /// Returns the port bound (the one asked for, or the one given for port 0).
    @discardableResult
    public func start(at address: ListenAddress) throws -> Int {
        let system = system, health = health, now = now, limits = limits
        let timeout = TimeAmount(limits.connectionTimeout)
        let respond: @Sendable (HTTPMethod, String) -> EndpointResponse = { method, uri in
            EndpointResponse.answering(method, uri, metricsPage: { system.metricsPage() },
                                       healthProblems: { system.healthProblems(health, now: now()) })
        }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                guard openConnections.add(1, ordering: .relaxed).newValue <= limits.maxConnections else {
                    openConnections.subtract(1, ordering: .relaxed)
                    return channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(RefusedConnection()) }
                }
                // Whatever ends the connection, a slow client or an answer sent, frees its place.
                let deadline = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
                channel.closeFuture.whenComplete { [self] _ in
                    deadline.cancel()
                    openConnections.subtract(1, ordering: .relaxed)
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RequestByteLimit(limit: limits.maxRequestBytes))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false)
                    try channel.pipeline.syncOperations.addHandler(EndpointRequestHandler(respond: respond))
                }
            }
        let bound = try bootstrap.bind(host: address.host, port: address.port).wait()
        channel.withLock { $0 = bound }
        let port = bound.localAddress?.port ?? address.port
        logger.info("metrics endpoint listening", metadata: ["metrics.address": "\(address.host):\(port)"])
        return port
    }

    /// Stops serving (for tests; the supervisor's endpoint lasts as long as it does).
    public func stop() {
        channel.withLock { $0 }?.close(promise: nil)
        try? group.syncShutdownGracefully()
    }
}
