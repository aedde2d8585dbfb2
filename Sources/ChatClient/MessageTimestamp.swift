import Foundation

/// The protocol's `YYYYMMDDhhmm` timestamps, in local time.
public enum MessageTimestamp {
    public static func now() -> String {
        var seconds = time(nil)
        var parts = tm()
        localtime_r(&seconds, &parts)
        return String(format: "%04d%02d%02d%02d%02d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min)
    }

    /// `202004131702` -> `2020-04-13 17:02`, for people.
    public static func readable(_ timestamp: String) -> String {
        let c = Array(timestamp)
        guard c.count == 12 else { return timestamp }
        return "\(String(c[0..<4]))-\(String(c[4..<6]))-\(String(c[6..<8])) \(String(c[8..<10])):\(String(c[10..<12]))"
    }
}
