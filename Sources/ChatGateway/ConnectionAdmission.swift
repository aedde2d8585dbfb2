import Logging
import NIOCore
import Synchronization

/// The gateway's `ConnectionLimits`, shared by every event loop: a connection is admitted on
/// the loop that accepted it and signs in and closes on its own. The lock is taken on those
/// three events (and a reload) only, never per message, and so are the connection figures recorded.
final class ConnectionAdmission: Sendable {
    private let limits: Mutex<ConnectionLimits>
    private let metrics: GatewayMetrics
    private let logger: Logger

    init(limits: ConnectionLimits, metrics: GatewayMetrics = GatewayMetrics(), logger: Logger) {
        self.limits = Mutex(limits)
        self.metrics = metrics
        self.logger = logger
    }

    /// Counts the new connection in, or refuses it (and says so in the log once a minute; the
    /// refusals of a flood's last minute with the first connection admitted after it).
    func admit(_ connection: UInt64, from address: SocketAddress?) -> ConnectionLimits.Decision {
        let key = ClientAddress(address)
        let now = NIODeadline.now()
        let (decision, report) = limits.withLock { limits in
            let decision = limits.admit(connection, from: key)
            // Under the lock, so concurrent admissions and closes record their counts in order.
            if decision == .admitted { metrics.connectionsOpen.record(limits.openConnections) }
            return (decision, limits.refusalsToReport(now: now, every: .minutes(1)))
        }
        switch decision {
        case .admitted: metrics.connectionsAccepted.increment()
        case .tooManyInTotal: metrics.refusedAtTotalCap.increment()
        case .tooManyFromAddress: metrics.refusedAtAddressCap.increment()
        }
        if let report {
            logger.warning("refusing connections at the connection limits", metadata: [
                "gateway.refused_at_total_cap": "\(report.tooManyInTotal)",
                "gateway.refused_at_address_cap": "\(report.tooManyFromAddress)",
            ])
        }
        return decision
    }

    /// New limits (a reload): connections open already stay, even past them; new ones are
    /// admitted by them.
    func change(maxConnections: Int, maxUnauthenticatedPerAddress: Int) {
        limits.withLock {
            $0.maxConnections = maxConnections
            $0.maxUnauthenticatedPerAddress = maxUnauthenticatedPerAddress
        }
    }

    func authenticated(_ connection: UInt64) {
        limits.withLock { $0.authenticated(connection) }
    }

    func closed(_ connection: UInt64) {
        limits.withLock { limits in
            limits.closed(connection)
            metrics.connectionsOpen.record(limits.openConnections)
        }
    }
}
