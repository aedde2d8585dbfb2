/// The gateway's cap on connections in all, kept below the process's file-descriptor limit:
/// past that limit `accept` fails (EMFILE) and so would opening a stored file or a bus
/// socket, so client connections stop short of it.
enum ConnectionCap {
    /// Descriptors kept back from clients: the bus sockets, event loops, logs, stored files
    /// sent with `sendfile` (one per download running) and the socket of a connection being
    /// refused. A tenth of the limit, at least 128, but never more than half of it.
    static func reserve(descriptorLimit: Int) -> Int {
        min(max(128, descriptorLimit / 10), descriptorLimit / 2)
    }

    /// `configured` (`gateway.max_connections`), or, when it is 0 or would not leave the reserve
    /// free, the limit less the reserve.
    static func effective(configured: Int, descriptorLimit: Int) -> Int {
        let derived = max(1, descriptorLimit - reserve(descriptorLimit: descriptorLimit))
        return configured > 0 ? min(configured, derived) : derived
    }
}
