import CoreMetrics

/// The gateway's figures, made once per process and shared: each event changes one of them
/// with a single atomic operation, and no figure moves per message.
struct GatewayMetrics: Sendable {
    /// Client connections admitted and not yet closed.
    let connectionsOpen = Gauge(label: "chat_connections_open")
    let connectionsAccepted = Counter(label: "chat_connections_accepted_total")
    let refusedAtTotalCap = Counter(label: "chat_connections_refused_total", dimensions: [("reason", "total_cap")])
    let refusedAtAddressCap = Counter(label: "chat_connections_refused_total", dimensions: [("reason", "address_cap")])
    /// Sessions signed in here, as the router has been told of them.
    let sessionsOnline = Gauge(label: "chat_sessions_online")
}
