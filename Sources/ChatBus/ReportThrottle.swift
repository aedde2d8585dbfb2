/// Decides when a stream of like events is reported to the log, at most once per interval:
/// the first at once, then a tally of those since the last report, so a flood (refused
/// connections, failed accepts, hostile bus messages) costs a line per interval, not a line
/// per event. Events are added to `unreported`; the caller asks for a report with each event,
/// and again later (the bus loop at each wake-up, the gateway with its next accepted
/// connection) so a flood's last events are reported too.
///
/// In ChatBus, which the bus loop and the gateway both use (ChatBus does not depend on ChatRuntime).
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
