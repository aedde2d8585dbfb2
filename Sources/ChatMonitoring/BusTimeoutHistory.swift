/// Enough of every process's `chat_bus_timeouts_total` to tell how many of its bus requests
/// timed out within the last minute: the counter's value at a few moments (when the monitoring
/// side samples the reports, every few seconds), per process incarnation. A value type with
/// time passed in (monotonic nanoseconds), tested without processes.
public struct BusTimeoutHistory: Sendable {
    public static let window: UInt64 = 60_000_000_000

    private struct Sample: Sendable, Equatable {
        let at: UInt64
        let total: Double
    }

    /// Per process name: whose counter the samples are (a new pid starts a new counter at 0)
    /// and the samples, oldest first.
    private var samples: [String: (pid: Int32, samples: [Sample])] = [:]

    public init() {}

    /// Notes `total`, the process's counter summed over its workers, read at `now`.
    public mutating func record(process: String, pid: Int32, total: Double, at now: UInt64) {
        var entry = samples[process].flatMap { $0.pid == pid ? $0 : nil } ?? (pid: pid, samples: [])
        // A sample at or before the window's start is kept as the baseline; older ones go.
        if let keep = entry.samples.lastIndex(where: { $0.at + Self.window <= now }) {
            entry.samples.removeFirst(keep)
        }
        // The same report sampled again (a status asked for between two reports) is one sample.
        if entry.samples.last?.at == now { entry.samples.removeLast() }
        entry.samples.append(Sample(at: now, total: total))
        samples[process] = entry
    }

    /// Forgets processes not heard from within the window (gone, or renamed).
    public mutating func forget(notSeenSince now: UInt64) {
        samples = samples.filter { ($0.value.samples.last?.at ?? 0) + Self.window > now }
    }

    /// The timeouts of the process's incarnation `pid` within the window before `now`: its
    /// latest total less its total at the window's start. Without a sample that old, the
    /// oldest known, or zero when `startedWithinWindow` (its counter began at zero since).
    /// Nil when nothing was recorded of that incarnation.
    public func timeoutsInWindow(process: String, pid: Int32, now: UInt64, startedWithinWindow: Bool) -> Int? {
        guard let entry = samples[process], entry.pid == pid, let latest = entry.samples.last else { return nil }
        let baseline: Double
        if let old = entry.samples.last(where: { $0.at + Self.window <= now }) {
            baseline = old.total
        } else {
            baseline = startedWithinWindow ? 0 : entry.samples[0].total
        }
        // Clamped: totals come from reports, which anyone reaching the endpoint can send.
        return Int(min(max(0, latest.total - baseline), 1e15))
    }
}
