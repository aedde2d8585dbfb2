import CLibEdit
import Glibc
import Synchronization

/// Line editing on a terminal with libedit: history (kept in a file across runs), arrow
/// keys, Ctrl-R search, Tab completion; and lines from other threads printed above the line
/// being typed, which is then drawn again, rather than through it.
///
/// Readline's state is global, so there is one editor per process (`LineEditor.start`). The
/// line is read with readline's callback interface on the thread that calls `readLine`,
/// which also does all the drawing; other threads hand it their lines through a pipe.
public final class LineEditor: Sendable {
    public struct Settings: Sendable {
        public var prompt = "> "
        /// Where the history is kept (created owner-only); nil: for this run only.
        public var historyFile: String?
        public var historyLimit: Int32 = 1000
        /// Whether a line entered is remembered (never a password, say).
        public var keepInHistory: @Sendable (String) -> Bool = { _ in true }
        /// The completions of `word`, the word under the cursor, given the line so far.
        public var completions: @Sendable (_ line: String, _ word: String) -> [String] = { _, _ in [] }

        public init() {}
    }

    private struct Shared {
        /// `readLine` is drawing: other threads queue their lines for it.
        var editing = false
        var queued: [String] = []
    }

    private let settings: Settings
    private let shared = Mutex(Shared())
    /// Written to wake `readLine` when lines are queued.
    private let wakeRead: Int32, wakeWrite: Int32

    /// The editor; at most one per process.
    public static func start(_ settings: Settings) -> LineEditor {
        let editor = LineEditor(settings: settings)
        Callbacks.editor.withLock { $0 = editor }
        return editor
    }

    private init(settings: Settings) {
        self.settings = settings
        var ends: [Int32] = [0, 0]
        pipe(&ends)
        for end in ends { _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK) }
        (wakeRead, wakeWrite) = (ends[0], ends[1])
        chat_editline_set_completion(Callbacks.complete)
        stifle_history(settings.historyLimit)
        if let file = settings.historyFile { _ = read_history(file) }
    }

    /// The next line the user enters, edited; nil at the end of input (Ctrl-D on an empty line).
    public func readLine() -> String? {
        let waiting = shared.withLock { shared in
            shared.editing = true
            defer { shared.queued = [] }
            return shared.queued
        }
        for line in waiting { write(line + "\n") }
        Callbacks.entered.withLock { $0 = nil }
        rl_callback_handler_install(settings.prompt, Callbacks.lineEntered)
        defer {
            rl_callback_handler_remove()
            let late = shared.withLock { shared in
                shared.editing = false
                defer { shared.queued = [] }
                return shared.queued
            }
            for line in late { write(line + "\n") }
        }
        while true {
            var ready = [pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            guard poll(&ready, 2, -1) >= 0 || errno == EINTR else { return nil }
            if ready[1].revents != 0 { showQueued() }
            let input = ready[0].revents
            if input & Int16(POLLIN | POLLHUP) != 0 {
                rl_callback_read_char()
                if let entered = Callbacks.entered.withLock({ $0 }) {
                    guard let line = entered else { return nil }
                    remember(line)
                    return line
                }
            }
            // The terminal hung up (or is no terminal any more) with nothing left to read: the
            // end of input, rather than a loop on a descriptor that stays ready.
            if input & Int16(POLLERR | POLLNVAL) != 0 || (input & Int16(POLLHUP) != 0 && input & Int16(POLLIN) == 0) {
                return nil
            }
        }
    }

    /// Prints `line` from any thread: above the line being typed while one is, at once otherwise.
    public func print(_ line: String) {
        let queued = shared.withLock { shared in
            guard shared.editing else { return false }
            shared.queued.append(line)
            return true
        }
        if queued {
            var byte: UInt8 = 1
            _ = Glibc.write(wakeWrite, &byte, 1)
        } else {
            write(line + "\n")
        }
    }

    /// The lines other threads queued, printed over the prompt's row; the prompt and the line
    /// being typed are then drawn again below them.
    private func showQueued() {
        var scratch = [UInt8](repeating: 0, count: 256)
        while Glibc.read(wakeRead, &scratch, scratch.count) > 0 {}
        let lines = shared.withLock { shared in
            defer { shared.queued = [] }
            return shared.queued
        }
        guard !lines.isEmpty else { return }
        // Back to the start of the row and clear it, so no line ends in a half-typed one.
        write("\r\u{1B}[K" + lines.map { $0 + "\n" }.joined())
        rl_forced_update_display()
    }

    private func remember(_ line: String) {
        guard !line.isEmpty, settings.keepInHistory(line) else { return }
        add_history(line)
        guard let file = settings.historyFile else { return }
        // Owner-only: the history holds what the user wrote.
        let descriptor = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        if descriptor >= 0 { close(descriptor) }
        _ = write_history(file)
    }

    private func write(_ text: String) {
        Array(text.utf8).withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(STDOUT_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }
}

/// What readline's C callbacks reach: they cannot capture, so the editor and the line just
/// entered are kept here.
private enum Callbacks {
    static let editor = Mutex<LineEditor?>(nil)
    /// Set by `lineEntered`: the line, or `.some(nil)` at the end of input.
    static let entered = Mutex<String??>(nil)
    /// The completions of the word being completed, handed out one by one to readline.
    static let candidates = Mutex<[String]>([])

    static let lineEntered: @convention(c) (UnsafeMutablePointer<CChar>?) -> Void = { text in
        let line = text.map { String(cString: $0) }
        free(text)
        entered.withLock { $0 = .some(line) }
    }

    static let complete: @convention(c) (UnsafePointer<CChar>?, Int32, Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = { text, _, _ in
        guard let text, let settings = editor.withLock({ $0?.completionSettings }) else { return nil }
        let line = chat_editline_line_buffer().map { String(cString: $0) } ?? ""
        let found = settings(line, String(cString: text))
        guard !found.isEmpty else { return nil }
        candidates.withLock { $0 = found }
        return rl_completion_matches(text, next)
    }

    /// readline's generator: the `state`-th candidate (0 starts again), nil after the last.
    static let next: @convention(c) (UnsafePointer<CChar>?, Int32) -> UnsafeMutablePointer<CChar>? = { _, state in
        candidates.withLock { candidates in
            guard Int(state) < candidates.count else { return nil }
            return strdup(candidates[Int(state)])
        }
    }
}

extension LineEditor {
    fileprivate var completionSettings: @Sendable (String, String) -> [String] { settings.completions }
}
