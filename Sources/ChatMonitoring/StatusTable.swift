import Foundation

/// `chatd status` for people: one row per process, then the totals. A figure not known (no
/// fresh report from that process) shows as `-`.
public enum StatusTable {
    static let headers = ["PROCESS", "ROLE", "PID", "STATE", "UPTIME", "RESTARTS", "IN FLIGHT", "TIMEOUTS/MIN", "SESSIONS", "MAP",
                          "PARTITIONS"]

    public static func render(_ status: SystemStatus) -> String {
        let rows = status.processes.map { process in
            [
                process.name, process.role, text(process.pid), process.state,
                process.uptimeSeconds.map(uptime) ?? "-", text(process.restarts),
                text(process.requestsInFlight), text(process.busTimeoutsLastMinute), text(process.sessionsOnline),
                text(process.mapEpoch), partitions(process),
            ]
        }
        let widths = headers.indices.map { column in ([headers] + rows).map { $0[column].count }.max() ?? 0 }
        var lines = ([headers] + rows).map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        lines.append("")
        lines.append("sessions online: \(status.sessionsOnline)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `0,2,4`, and `(waiting for 6,8)` after them while partitions move in.
    private static func partitions(_ process: SystemStatus.Process) -> String {
        guard let held = process.partitions else { return "-" }
        let list = held.isEmpty ? "none" : held.map(String.init).joined(separator: ",")
        guard let waiting = process.partitionsWaiting, !waiting.isEmpty else { return list }
        return list + " (waiting for " + waiting.map(String.init).joined(separator: ",") + ")"
    }

    private static func text<Value: CustomStringConvertible>(_ value: Value?) -> String {
        value.map(\.description) ?? "-"
    }

    /// `42s`, `3m07s`, `2h05m`, `3d04h`: enough to tell a fresh restart from a long run.
    static func uptime(_ seconds: Double) -> String {
        let whole = Int(max(0, min(seconds, 1e12)))
        let (days, hours, minutes, rest) = (whole / 86_400, whole / 3600 % 24, whole / 60 % 60, whole % 60)
        if days > 0 { return "\(days)d" + twoDigits(hours) + "h" }
        if hours > 0 { return "\(hours)h" + twoDigits(minutes) + "m" }
        if minutes > 0 { return "\(minutes)m" + twoDigits(rest) + "s" }
        return "\(rest)s"
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
