import CoreMetrics

/// What the bus loop records of its requests to one worker (a dealer socket): how long each
/// took to be answered, how many timed out, and the timeouts not yet logged. Made once per
/// socket when it connects, so a request costs one `Timer` record or one counter increment,
/// never a metric lookup. A class, so that a reply's record copies nothing: only the loop
/// thread touches it.
final class BusWorkerFigures {
    /// The worker's name in metrics and logs: `auth`, `router`, `storage-1`.
    let worker: String
    let endpoint: String
    private let latency: Timer
    private let timeouts: Counter
    /// Timeouts since the last log line: logged at most once per interval, with their count.
    var unreportedTimeouts = ReportThrottle()

    init(worker: String, endpoint: String) {
        self.worker = worker
        self.endpoint = endpoint
        latency = Timer(label: "chat_bus_request_seconds", dimensions: [("worker", worker)])
        timeouts = Counter(label: "chat_bus_timeouts_total", dimensions: [("worker", worker)])
    }

    func replied(afterNanoseconds nanoseconds: UInt64) {
        latency.recordNanoseconds(Int64(clamping: nanoseconds))
    }

    func timedOut() {
        timeouts.increment()
        unreportedTimeouts.unreported += 1
    }
}
