import CLinux
import ChatTestSupport
import Foundation

/// The `chat` client on a terminal: a pseudo-terminal the test holds the master side of, so
/// the client sees a terminal (line editing on) and the test types keys and reads the screen's
/// bytes as a terminal emulator would get them.
///
/// Unchecked: `bytes`, the only mutable field, is touched only under `condition`.
final class ChatTerminal: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible { let description: String }

    let process = Process()
    private let master: Int32
    private let condition = NSCondition()
    private var bytes: [UInt8] = []

    init(_ arguments: [String]) throws {
        var number: Int32 = 0
        master = open_pseudo_terminal(&number)
        guard master >= 0 else { throw Failure(description: "no pseudo-terminal: errno \(errno)") }
        let terminal = try FileHandle(forUpdating: URL(fileURLWithPath: "/dev/pts/\(number)"))
        process.executableURL = ChatSystem.binaries.appendingPathComponent("chat")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["TERM": "xterm"]) { $1 }
        process.standardInput = terminal
        process.standardOutput = terminal
        process.standardError = terminal
        try process.run()
        try terminal.close()
        Thread { [self] in readScreen() }.start()
    }

    deinit {
        if process.isRunning { _ = process.stop(with: SIGKILL, within: .seconds(10)) }
        close(master)
    }

    private func readScreen() {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(master, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            condition.lock()
            if count > 0 { bytes += chunk[..<count] }
            condition.broadcast()
            condition.unlock()
            if count <= 0 { return }
        }
    }

    /// Everything the client wrote to the terminal so far, escape sequences included.
    var screen: String {
        condition.lock()
        defer { condition.unlock() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Keys, as a terminal sends them (`\r` for Enter, `\u{1B}[A` for the up arrow).
    func type(_ keys: String) {
        _ = Array(keys.utf8).withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
    }

    /// Waits until the screen shows `text` after everything it showed before `since` (a
    /// length of `screen`, in bytes); throws with the screen if it does not within `timeout`.
    func waitFor(_ text: String, after since: Int = 0, timeout: Duration = .seconds(30)) throws {
        let deadline = Date().addingTimeInterval(Double(timeout.components.seconds))
        condition.lock()
        defer { condition.unlock() }
        while !String(decoding: bytes.dropFirst(since), as: UTF8.self).contains(text) {
            guard condition.wait(until: deadline) else {
                throw Failure(description: "the terminal did not show \(text.debugDescription) within \(timeout); it shows:\n"
                              + String(decoding: bytes, as: UTF8.self).debugDescription)
            }
        }
    }

    /// How many bytes the screen has received: a mark for `waitFor(_:after:)`.
    var mark: Int {
        condition.lock()
        defer { condition.unlock() }
        return bytes.count
    }
}
