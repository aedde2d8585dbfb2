import ChatBenchmark
import Foundation

/// The lab as the tests use it: this build's `chatd` as the server, `chat` clients run as
/// scripts in a host's namespace.
extension NATLab {
    func startServer(dataDirectory: URL, log: URL) throws {
        try startServer(chatd: ChatSystem.binaries.appendingPathComponent("chatd"), dataDirectory: dataDirectory, log: log)
    }

    /// Runs the `chat` client in `namespace` with `script` on its standard input (left open
    /// if `moreToCome`).
    func chat(in namespace: String, script: String, arguments: [String], moreToCome: Bool = false) throws -> ScriptedChat {
        try ScriptedChat(["--host", Self.serverAddress, "--port", "7890"] + arguments, script: script,
                         wrapper: ["ip", "netns", "exec", namespace], moreToCome: moreToCome)
    }
}
