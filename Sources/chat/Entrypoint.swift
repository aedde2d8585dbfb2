import ArgumentParser
import ChatClient
import Foundation

@main
struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Line-mode chat client. Type /help once connected.",
        discussion: "With standard input not a terminal it reads commands line by line, for scripts.")

    @Option(help: "Server host.") var host = "127.0.0.1"
    @Option(help: "Server port.") var port = 7890
    @Option(help: "Folder where /get saves files.") var downloads = "downloads"

    func run() throws {
        let interactive = isatty(STDIN_FILENO) == 1
        setvbuf(stdout, nil, _IOLBF, 0)
        let session = try ChatClientSession(host: host, port: port, downloads: DownloadsFolder(path: downloads)) { print($0) }
        if interactive { print("connected to \(host):\(port); /help lists the commands") }
        let code = session.run { readLine(strippingNewline: true) }
        if code != 0 { throw ExitCode(code) }
    }
}
