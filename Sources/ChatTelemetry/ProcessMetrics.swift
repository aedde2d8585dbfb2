import CoreMetrics
import Prometheus

/// Where a process's swift-metrics figures go: one Prometheus registry per process, which the
/// `TelemetryReporter` sends to the supervisor. Libraries record through swift-metrics
/// (`Counter`, `Gauge`, `Timer`, `Recorder`) and never see this.
public enum ProcessMetrics {
    /// Bus round trips and commits take from tens of microseconds to the request timeout.
    public static let durationBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500),
        .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]
    /// Counts, such as the records of one group commit.
    public static let sizeBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096]

    /// Installs a fresh registry as the process's metrics system and returns it. Once per
    /// process (swift-metrics allows one bootstrap).
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = durationBuckets
        factory.defaultValueHistogramBuckets = sizeBuckets
        MetricsSystem.bootstrap(factory)
        return registry
    }
}
