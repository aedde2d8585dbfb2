import ChatBenchmark
import ChatTestSupport
import Foundation

/// The `chat` client run as a script would run it: commands on its standard input, its output
/// read as it comes. Killed if still running when dropped, so a failed test leaves none behind.
final class ScriptedChat {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let process: Process
    private let input: FileHandle
    private var inputOpen = true
    private let output: ChildOutput

    /// Starts `chat` with `arguments` and `script` on its input; `wrapper` runs it under
    /// another command first (`ip netns exec NAME`). The input is closed after the script (the
    /// client quits at its end) unless `moreToCome`: then `send` adds to it and `finish` ends it.
    init(_ arguments: [String], script: String, wrapper: [String] = [], moreToCome: Bool = false) throws {
        process = Process()
        let chat = ChatSystem.binaries.appendingPathComponent("chat")
        process.setCommand(chat, arguments: arguments, under: wrapper)
        let inputPipe = Pipe(), outputPipe = Pipe()
        // Pipe() leaves its ends open across exec: no other process this test process starts
        // meanwhile may keep them (the client would never see the end of its input).
        for handle in [inputPipe.fileHandleForReading, inputPipe.fileHandleForWriting,
                       outputPipe.fileHandleForReading, outputPipe.fileHandleForWriting] {
            _ = fcntl(handle.fileDescriptor, F_SETFD, FD_CLOEXEC)
        }
        process.standardInput = inputPipe
        process.standardOutput = outputPipe
        process.standardError = outputPipe
        input = inputPipe.fileHandleForWriting
        try process.run()
        output = ChildOutput(outputPipe)
        try send(script)
        if !moreToCome { closeInput() }
    }

    deinit {
        closeInput()
        if process.isRunning { process.stop(with: SIGKILL, within: .seconds(10)) }
    }

    /// More commands, for a client started with `moreToCome`.
    func send(_ commands: String) throws {
        try input.write(contentsOf: Data(commands.utf8))
    }

    private func closeInput() {
        guard inputOpen else { return }
        inputOpen = false
        try? input.close()
    }

    /// What the client printed so far.
    var printed: String { output.text }

    /// Waits until the client has printed every one of `lines` (anywhere in its output);
    /// throws, failing the test, if it has not within `timeout`.
    func waitForOutput(containing lines: [String], timeout: Duration = .seconds(30)) throws {
        guard !output.wait(timeout: timeout, until: { text, _ in lines.allSatisfy(text.contains) }) else { return }
        let missing = lines.filter { !printed.contains($0) }
        throw Failure(description: "chat did not print \(missing) within \(timeout); it printed:\n\(printed)")
    }

    /// Ends the input and returns everything the client printed once it has exited. If it
    /// has not within `timeout`, it is killed and the test fails.
    func finish(timeout: Duration = .seconds(60)) throws -> String {
        closeInput()
        guard output.ends(within: timeout), process.exits(within: .seconds(10)) else {
            process.stop(with: SIGKILL, within: .seconds(10))
            throw Failure(description: "chat did not exit within \(timeout) and was killed; it printed:\n\(printed)")
        }
        return printed
    }
}
