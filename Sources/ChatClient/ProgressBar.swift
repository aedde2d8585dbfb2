import Foundation

/// `[=====>     ] 45.2 / 100.0 MiB  12.3 MiB/s  6 s left` on standard error, redrawn at most
/// ten times a second, only on a terminal and only once a transfer has taken a moment; or,
/// given `events` (`chat --json`), a `progress` event at most four times a second and at the end.
final class ProgressBar {
    private let total: Int64
    private let label: String
    private let started = Date()
    private var lastDraw = Date.distantPast
    private var drawn = false
    private let enabled: Bool
    private let events: (@Sendable (ClientEvent) -> Void)?
    private let rawLabel: String
    private var lastEvent = Date.distantPast

    init(label: String, total: Int64, events: (@Sendable (ClientEvent) -> Void)? = nil) {
        // A peer-to-peer label names the offered file: escaped like any text from the network.
        self.label = TerminalText.escaped(label)
        rawLabel = label
        self.total = total
        self.events = events
        enabled = events == nil && isatty(STDOUT_FILENO) == 1 && isatty(STDERR_FILENO) == 1
    }

    private func event(_ done: Int64) {
        events?(ClientEvent(.progress, "\(label): \(done) of \(total) bytes",
                            ["label": .string(rawLabel), "done": .number(done), "total": .number(total)]))
    }

    func update(_ done: Int64) {
        if events != nil {
            let now = Date()
            guard now.timeIntervalSince(lastEvent) >= 0.25 else { return }
            lastEvent = now
            return event(done)
        }
        guard enabled else { return }
        let now = Date()
        let elapsed = now.timeIntervalSince(started)
        guard elapsed > 0.5, now.timeIntervalSince(lastDraw) > 0.1 || done == total else { return }
        lastDraw = now
        drawn = true
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        let width = 24
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "") + String(repeating: " ", count: max(0, width - filled - 1))
        let rate = Double(done) / max(elapsed, 0.001)
        let left = rate > 0 ? Double(total - done) / rate : 0
        let line = String(format: "\r%@ [%@] %.1f / %.1f MiB  %.1f MiB/s  %.0f s left ", label, bar,
                          Double(done) / 1_048_576, Double(total) / 1_048_576, rate / 1_048_576, left)
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        if events != nil { return event(total) }
        if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
