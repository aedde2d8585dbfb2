import ChatMonitoring
import ChatRuntime
import ChatSupervisor
import ChatTelemetry
import Foundation
import Logging

/// The windows on a running system that the supervisor opens, and `chatd monitor` alone: the
/// telemetry every process reports to, the admin socket (`chatd status`, `chatd reload`) and
/// the metrics endpoint, all over one `MonitoredSystem`.
struct MonitoringEndpoints {
    private let admin: AdminServer
    private let metrics: MetricsServer?

    /// Binds the telemetry endpoint, first making sure no running supervisor or monitor has
    /// this data folder: an `ipc://` bind would take over its socket before failing elsewhere.
    static func collectTelemetry(_ configuration: ChatConfiguration, logger: Logger) throws -> TelemetryCollector {
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        try AdminServer.refuseIfInUse(path: AdminServer.path(dataDirectory: configuration.dataDirectory))
        return try TelemetryCollector(endpoint: configuration.resolvedTelemetryEndpoint, logger: logger)
    }

    /// Opens the admin socket and the metrics endpoint (unless `metrics.listen` is empty).
    /// `chatd reload` runs `reload` and prints its summary, and `reloadNote` after it when
    /// given; it exits 1 on an answer starting `error:`.
    static func open(_ system: MonitoredSystem, health: HealthCheck, configuration: ChatConfiguration,
                     reload: ConfigurationReload, reloadNote: String? = nil, logger: Logger) throws -> MonitoringEndpoints {
        let metricsAddress = try ListenAddress.parse(configuration.metricsListen)
        let admin = try AdminServer(path: AdminServer.path(dataDirectory: configuration.dataDirectory), system: system, onReload: {
            let outcome = reload.reload()
            let lines = outcome.summary + (reloadNote.map { [$0] } ?? [])
            return (outcome.succeeded ? "" : "error: ") + lines.joined(separator: "\n")
        }, logger: logger)
        let metrics = metricsAddress.flatMap { serveMetrics(at: $0, system: system, health: health, logger: logger) }
        return MonitoringEndpoints(admin: admin, metrics: metrics)
    }

    func close() {
        admin.stop()
        metrics?.stop()
    }

    /// The metrics endpoint, or nil when its address cannot be bound: metrics are for watching
    /// the chat service, and a port taken by something else should not keep it from running.
    /// The error is logged, and the service runs unwatched until restarted with a free port.
    private static func serveMetrics(at address: ListenAddress, system: MonitoredSystem, health: HealthCheck, logger: Logger) -> MetricsServer? {
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

extension ChatConfiguration {
    /// Every process of a whole system by name, in start order: `auth` (or `auth-0`, ... with
    /// several), `storage-0`, ..., `router`, `gateway`. The supervisor's children; what
    /// `chatd monitor` expects to hear from.
    var processNames: [String] {
        let auth = authEndpoints.count == 1 ? ["auth"] : authEndpoints.indices.map { "auth-\($0)" }
        return auth + storageEndpoints.indices.map { "storage-\($0)" } + ["router", "gateway"]
    }
}
