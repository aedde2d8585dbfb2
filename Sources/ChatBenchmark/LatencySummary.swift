/// Percentiles of a set of latencies, in nanoseconds.
public struct LatencySummary: Sendable {
    public let count: Int
    private let sorted: [UInt64]

    public init(_ samples: [UInt64]) {
        sorted = samples.sorted()
        count = sorted.count
    }

    /// The nearest-rank percentile (0...100); 0 when there are no samples.
    public func percentile(_ p: Double) -> UInt64 {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    public static func milliseconds(_ nanoseconds: UInt64) -> String {
        String(format: "%.2f ms", Double(nanoseconds) / 1e6)
    }
}
