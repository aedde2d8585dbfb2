import Synchronization

/// The bytes the whole gateway holds for clients that do not read them, against one budget
/// (`gateway.max_queued_output_bytes`).
///
/// A connection accounts here only its backlog: what SwiftNIO holds beyond the connection's
/// write buffer mark once the socket is full (the channel not writable), and the pushes its
/// session holds back during a data exchange. A client that reads keeps no backlog, so the
/// text path touches none of this.
///
/// When the total is over the budget, a connection whose backlog grows past its fair share
/// (the budget split among the connections with a backlog) is to be closed: the clients that
/// read nothing go, the others keep their share.
final class OutputBudget: Sendable {
    /// 0: no gateway-wide limit (each connection still has its own). A reload may change it;
    /// it is read only when a backlog changes.
    var limit: Int {
        get { currentLimit.load(ordering: .relaxed) }
        set { currentLimit.store(newValue, ordering: .relaxed) }
    }
    private let currentLimit: Atomic<Int>
    private let queued = Atomic<Int>(0)
    private let backloggedConnections = Atomic<Int>(0)

    init(limit: Int) {
        currentLimit = Atomic(limit)
    }

    /// Every connection's backlog, summed.
    var queuedBytes: Int { queued.load(ordering: .relaxed) }

    /// One connection's backlog went from `old` to `new` bytes; true when that connection is
    /// over its share of a budget the gateway has exceeded, and must be closed.
    func account(from old: Int, to new: Int) -> Bool {
        guard new != old else { return false }
        let total = queued.wrappingAdd(new - old, ordering: .relaxed).newValue
        let connections: Int
        switch (old > 0, new > 0) {
        case (false, true): connections = backloggedConnections.wrappingAdd(1, ordering: .relaxed).newValue
        case (true, false): connections = backloggedConnections.wrappingSubtract(1, ordering: .relaxed).newValue
        default: connections = backloggedConnections.load(ordering: .relaxed)
        }
        return new > old && OutputShare(limit: limit).isExceeded(by: new, total: total, backloggedConnections: connections)
    }
}

/// Whether one connection's backlog is over its share of the gateway's output budget.
struct OutputShare: Equatable {
    /// 0: no limit.
    let limit: Int

    /// `backlog`: the connection's; `total` and `backloggedConnections`: the gateway's, this
    /// connection included.
    func isExceeded(by backlog: Int, total: Int, backloggedConnections: Int) -> Bool {
        guard limit > 0, total > limit else { return false }
        return backlog > limit / max(1, backloggedConnections)
    }
}
