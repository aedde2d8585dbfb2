/// Figures read off a system's `/metrics` page, as a scraper reads them.
public enum MetricsPage {
    /// The sum of counter `name`'s series (one per process), only those carrying `label`
    /// (`result="ok"`) when given; 0 when the page cannot be had.
    public static func sum(port: Int, _ name: String, label: String? = nil) -> Double {
        let page = (try? LoopbackHTTP.get(port: port, "/metrics").body) ?? ""
        return page.split(separator: "\n")
            .filter { $0.hasPrefix(name + " ") || $0.hasPrefix(name + "{") }
            .filter { line in label.map { line.contains($0) } ?? true }
            .compactMap { line in line.split(separator: " ").last.flatMap { Double($0) } }
            .reduce(0, +)
    }
}
