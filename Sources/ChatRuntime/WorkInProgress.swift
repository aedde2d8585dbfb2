import Dispatch
import Synchronization

/// Work of this process that must keep moving besides its bus loop: a storage worker's
/// commits, whose fsync a failing disk can hold for ever while the loop still wakes on time.
/// The work stamps when it starts and clears when it ends; the telemetry reporter asks whether
/// any has run too long and goes quiet, so that the supervisor's health check sees it.
public final class WorkInProgress: Sendable {
    /// Every one made in this process (each lives as long as what it watches, the process).
    private static let watched = Mutex<[WorkInProgress]>([])
    /// `DispatchTime` nanoseconds when the work started; 0 while there is none.
    private let startedAt = Atomic<UInt64>(0)

    public init() {
        Self.watched.withLock { $0.append(self) }
    }

    public func begin() {
        startedAt.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
    }

    public func end() {
        startedAt.store(0, ordering: .relaxed)
    }

    /// True when this work began more than `limit` ago and has not ended.
    public func isLongerThan(_ limit: Duration) -> Bool {
        let started = startedAt.load(ordering: .relaxed)
        let now = DispatchTime.now().uptimeNanoseconds
        let limit = UInt64(limit.components.seconds) * 1_000_000_000 + UInt64(limit.components.attoseconds / 1_000_000_000)
        return started != 0 && now - min(now, started) > limit
    }

    /// True when some work of this process has run longer than `limit`.
    public static func anyLongerThan(_ limit: Duration) -> Bool {
        watched.withLock { $0.contains { $0.isLongerThan(limit) } }
    }
}
