import ArgumentParser
import ChatMonitoring
import ChatRuntime
import Foundation

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every process of the running system: its state, restarts and figures.",
        discussion: "Asks the supervisor over <data_dir>/admin.sock. Exits 1 when chatd is not running.")
    @OptionGroup var configuration: ConfigurationOptions
    @Flag(help: "Print JSON for scripts (keys in docs/operations.md, Status) instead of a table.")
    var json = false

    func run() throws {
        let answer = try AdminCommandLine.ask("status", configuration: configuration)
        if json {
            print(answer, terminator: answer.hasSuffix("\n") ? "" : "\n")
            return
        }
        guard let status = try? JSONDecoder().decode(SystemStatus.self, from: Data(answer.utf8)) else {
            AdminCommandLine.fail("unexpected answer from the supervisor: \(answer)")
        }
        print(StatusTable.render(status), terminator: "")
    }
}

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask the running supervisor to re-read its configuration.",
        discussion: "Asks the supervisor over <data_dir>/admin.sock. Exits 1 when chatd is not running or refuses.")
    @OptionGroup var configuration: ConfigurationOptions

    func run() throws {
        let answer = try AdminCommandLine.ask("reload", configuration: configuration)
        print(answer, terminator: answer.hasSuffix("\n") ? "" : "\n")
    }
}

/// What `status` and `reload` share: finding the admin socket from the options, and failing
/// with a message on standard error and exit code 1.
enum AdminCommandLine {
    static func ask(_ request: String, configuration: ConfigurationOptions) throws -> String {
        // `--data-dir` is enough: a config file being edited need not be valid to ask.
        let path = AdminServer.path(dataDirectory: try configuration.dataDirectory ?? configuration.resolve().dataDirectory)
        let answer: String
        do {
            answer = try AdminClient.ask(request, at: path)
        } catch {
            fail(error.description)
        }
        if answer.hasPrefix("error:") { fail(answer.trimmingCharacters(in: .newlines)) }
        return answer
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        Chatd.exit(withError: ExitCode.failure)
    }
}
