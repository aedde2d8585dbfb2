import ChatTestSupport
import Foundation

extension Process {
    /// True once the process has exited, false if it still runs after `timeout`.
    func exits(within timeout: Duration) -> Bool {
        (try? waitUntil("exit", timeout: timeout, interval: .milliseconds(20)) { !isRunning }) != nil
    }

    /// Sends `signal` and waits for the process to exit; if it is still running after
    /// `timeout`, SIGKILLs it. True if it exited on `signal`.
    @discardableResult
    func stop(with signal: Int32 = SIGTERM, within timeout: Duration = .seconds(20)) -> Bool {
        guard isRunning else { return true }
        kill(processIdentifier, signal)
        if exits(within: timeout) { return true }
        kill(processIdentifier, SIGKILL)
        _ = exits(within: .seconds(10))
        return false
    }
}

/// A child's output, read as it comes by a thread of its own, until the child closes it: a
/// pipe, or a pseudo-terminal's master side (`ChatTerminal`).
///
/// Unchecked: `bytes` and `ended`, its only mutable fields, are read and written only while
/// holding `condition` (a condition, which `wait` sleeps on, so not a `Mutex`).
final class ChildOutput: @unchecked Sendable {
    /// Kept open as long as this reads it.
    private let pipe: Pipe?
    private let condition = NSCondition()
    private var bytes: [UInt8] = []
    private var ended = false

    convenience init(_ pipe: Pipe) {
        self.init(descriptor: pipe.fileHandleForReading.fileDescriptor, keeping: pipe)
    }

    /// Reads `descriptor`, which the caller keeps open (and closes after the reader's end).
    init(descriptor: Int32, keeping pipe: Pipe? = nil) {
        self.pipe = pipe
        Thread { [self] in readToEnd(descriptor) }.start()
    }

    private func readToEnd(_ descriptor: Int32) {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(descriptor, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            condition.lock()
            if count > 0 { bytes += chunk[..<count] } else { ended = true }
            condition.broadcast()
            condition.unlock()
            if count <= 0 { return }
        }
    }

    /// Everything read so far.
    var text: String {
        condition.lock()
        defer { condition.unlock() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// How many bytes were read so far: a mark for `wait(after:...)`.
    var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return bytes.count
    }

    /// Waits until `done(text read after the first `after` bytes, ended)` holds or `timeout`
    /// passes; returns whether it held.
    func wait(timeout: Duration, after: Int = 0, until done: (String, Bool) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout.seconds)
        condition.lock()
        defer { condition.unlock() }
        while !done(String(decoding: bytes.dropFirst(after), as: UTF8.self), ended) {
            guard condition.wait(until: deadline) else { return done(String(decoding: bytes.dropFirst(after), as: UTF8.self), ended) }
        }
        return true
    }

    /// True once the child closed its output (it exited), false if not within `timeout`.
    func ends(within timeout: Duration) -> Bool { wait(timeout: timeout) { _, ended in ended } }
}
