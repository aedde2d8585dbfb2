import CLinux
import ChatTestSupport
import Foundation

/// The `chat` client on a terminal: a pseudo-terminal the test holds the master side of, so
/// the client sees a terminal (line editing on) and the test types keys and reads the screen's
/// bytes as a terminal emulator would get them.
final class ChatTerminal {
    struct Failure: Error, CustomStringConvertible { let description: String }

    let process = Process()
    private let master: Int32
    /// What the client writes to the terminal, as read from the master side.
    private let screenOutput: ChildOutput

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
        screenOutput = ChildOutput(descriptor: master)
    }

    deinit {
        if process.isRunning { _ = process.stop(with: SIGKILL, within: .seconds(10)) }
        close(master)
    }

    /// Everything the client wrote to the terminal so far, escape sequences included.
    var screen: String { screenOutput.text }

    /// Keys, as a terminal sends them (`\r` for Enter, `\u{1B}[A` for the up arrow).
    func type(_ keys: String) {
        _ = Array(keys.utf8).withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
    }

    /// Waits until the screen shows `text` after everything it showed before `since` (a
    /// length of `screen`, in bytes); throws with the screen if it does not within `timeout`.
    func waitFor(_ text: String, after since: Int = 0, timeout: Duration = .seconds(30)) throws {
        guard screenOutput.wait(timeout: timeout, after: since, until: { shown, _ in shown.contains(text) }) else {
            throw Failure(description: "the terminal did not show \(text.debugDescription) within \(timeout); it shows:\n"
                          + screen.debugDescription)
        }
    }

    /// How many bytes the screen has received: a mark for `waitFor(_:after:)`.
    var mark: Int { screenOutput.count }
}
