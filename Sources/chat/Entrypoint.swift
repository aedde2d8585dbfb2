import ArgumentParser
import CLinux
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
    @Option(help: "Folder where /get and peer-to-peer transfers save files.") var downloads = "downloads"
    @Flag(help: "Accept every peer-to-peer offer at once.") var acceptP2p = false
    @Flag(help: "Never fall back to the server's relay for peer-to-peer transfers.") var noRelay = false
    @Option(help: "Seconds to try a direct peer-to-peer connection before the relay.") var p2pTimeout = 5.0

    func run() throws {
        let interactive = isatty(STDIN_FILENO) == 1
        line_buffer_standard_output()
        var peerOptions = PeerOptions()
        peerOptions.acceptAutomatically = acceptP2p
        peerOptions.allowRelay = !noRelay
        peerOptions.directTimeoutSeconds = p2pTimeout
        let session = try ChatClientSession(host: host, port: port, downloads: DownloadsFolder(path: downloads),
                                            peerOptions: peerOptions) { print($0) }
        if interactive { print("connected to \(host):\(port); /help lists the commands") }
        let code = session.run { readLine(strippingNewline: true) }
        if code != 0 { throw ExitCode(code) }
    }
}
