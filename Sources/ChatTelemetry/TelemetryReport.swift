/// What one process tells the supervisor, about once a second: who it is and its metrics in
/// Prometheus's text format (its own registry, `ProcessMetrics`). One ZeroMQ frame: a header
/// line `chatd-telemetry 1 <process> <pid>`, then the text.
///
/// The supervisor reads these from anything that can reach its telemetry endpoint, so decoding
/// checks every field and refuses what it does not expect (nil) rather than trusting it.
public struct TelemetryReport: Equatable, Sendable {
    /// The process's name in status and metrics: `gateway`, `auth`, `router`, `storage-0`.
    public let process: String
    public let pid: Int32
    /// Prometheus text exposition format, as `PrometheusCollectorRegistry` emits it.
    public let metrics: String

    public init(process: String, pid: Int32, metrics: String) {
        self.process = process
        self.pid = pid
        self.metrics = metrics
    }

    static let magic = "chatd-telemetry"
    static let version = "1"
    /// Above any real report: a few kilobytes, up to about 200 KiB for a storage worker that
    /// owns all of 4096 partitions (a line each). The collector's socket refuses more.
    public static let maxBytes = 1 << 20

    public func encoded() -> [UInt8] {
        Array("\(Self.magic) \(Self.version) \(process) \(pid)\n".utf8) + Array(metrics.utf8)
    }

    public init?(decoding frame: [UInt8]) {
        guard frame.count <= Self.maxBytes, let newline = frame.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let header = frame[..<newline].split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard header.count == 4,
              String(decoding: header[0], as: UTF8.self) == Self.magic,
              String(decoding: header[1], as: UTF8.self) == Self.version,
              Self.isProcessName(header[2]),
              let pid = Int32(String(decoding: header[3], as: UTF8.self)), pid > 0,
              let metrics = String(validating: frame[(newline + 1)...], as: UTF8.self) else { return nil }
        self.init(process: String(decoding: header[2], as: UTF8.self), pid: pid, metrics: metrics)
    }

    /// Letters, digits, `-` and `_`, at most 64: safe in a log line, a table and a label.
    public static func isProcessName<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        (1...64).contains(bytes.count) && bytes.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
    }
}
