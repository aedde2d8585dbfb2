#if canImport(Glibc)
import Glibc
#endif
import ChatBus
import NIOCore

/// How long the gateway stops accepting after `accept` failed for want of descriptors or
/// memory: tried again at once it fails the same way. The pause doubles while failures go on,
/// from `shortest` to `longest`, and starts over once an accept succeeds. Failures are tallied
/// for the log, which reports them once in a while rather than each one.
struct AcceptBackoff {
    let shortest: TimeAmount
    let longest: TimeAmount
    /// The pause the next failure gets.
    private var next: TimeAmount
    private var failures = ReportThrottle()

    init(shortest: TimeAmount = .milliseconds(20), longest: TimeAmount = .seconds(1)) {
        self.shortest = shortest
        self.longest = longest
        next = shortest
    }

    /// The errors a pause helps with; any other failed accept is the client's (ECONNABORTED)
    /// or ends the listening socket anyway.
    static func isResourceShortage(_ error: Error) -> Bool {
        guard let error = error as? IOError else { return false }
        return [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errnoCode)
    }

    /// An accept failed for want of resources: how long to stop accepting.
    mutating func failed() -> TimeAmount {
        let pause = next
        next = min(next * 2, longest)
        failures.unreported += 1
        return pause
    }

    mutating func accepted() {
        next = shortest
    }

    /// The failures since the last report, at most once per `interval` (the first at once).
    mutating func failuresToReport(now: NIODeadline, every interval: TimeAmount) -> Int? {
        failures.report(now: now.uptimeNanoseconds, every: UInt64(interval.nanoseconds))
    }
}
