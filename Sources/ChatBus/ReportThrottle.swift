/// Reports a stream of like events to the log at most once per interval: the first at once,
/// then a tally of those since the last report, so a flood (refused connections, failed
/// accepts, hostile bus messages) costs a line a minute, not a line per event. Events are
/// added to `unreported`; the report goes with the next event due one. Those left when the
/// flood stops wait for the next event, which says how many came between.
///
/// In ChatBus, the lowest library that logs, so the bus loop can use it as well as the gateway.
/// Times are monotonic nanoseconds (`DispatchTime`, `NIODeadline.uptimeNanoseconds`).
public struct ReportThrottle<Tally: Equatable & Sendable>: Sendable {
    /// What a tally of no events is.
    private let nothing: Tally
    /// The events since the last report.
    public var unreported: Tally
    private var lastReport: UInt64?

    public init(nothing: Tally) {
        self.nothing = nothing
        unreported = nothing
    }

    /// The tally since the last report, at most once per `interval` (the first at once), or nil
    /// when there is nothing to report or the last report was too recent; a report starts a
    /// new tally.
    public mutating func report(now: UInt64, every interval: UInt64) -> Tally? {
        guard unreported != nothing else { return nil }
        if let lastReport, now < lastReport + interval { return nil }
        defer { unreported = nothing; lastReport = now }
        return unreported
    }
}

extension ReportThrottle where Tally == Int {
    /// A plain count of events.
    public init() {
        self.init(nothing: 0)
    }
}
