import Foundation

/// The `chat` client run as a script would run it: commands on its standard input, its
/// output read back whole once it exits.
enum ScriptedChat {
    /// Starts `chat` with `arguments` and `script` on its input; `wrapper` runs it under
    /// another command first (`ip netns exec NAME`).
    static func start(_ arguments: [String], script: String, wrapper: [String] = []) throws -> Process {
        let process = Process()
        let chat = ChatSystem.binaries.appendingPathComponent("chat")
        if wrapper.isEmpty {
            process.executableURL = chat
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = wrapper + [chat.path] + arguments
        }
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(script.utf8))
        try input.fileHandleForWriting.close()
        return process
    }

    /// Everything the client printed, once it has exited.
    static func output(of process: Process) -> String {
        let data = (process.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
