import ArgumentParser
import CLinux
import ChatClient
import Foundation
import LineEditing
import Synchronization
import TLSSocket

@main
struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Line-mode chat client. Type /help once connected.",
        discussion: "With standard input not a terminal it reads commands line by line, for scripts.")

    @Option(help: "Server host.") var host = "127.0.0.1"
    @Option(help: "Server port (default: 7890, or 7891 with --tls).") var port: Int?
    @Flag(help: "Speak TLS to the server's TLS port, checking its certificate names --host.") var tls = false
    @Option(help: ArgumentHelp("Trust the certificates in this PEM file (a self-signed server's, say) instead of the system's.",
                               valueName: "file")) var caFile: String?
    @Option(help: "Folder where /get and peer-to-peer transfers save files.") var downloads = "downloads"
    @Flag(help: "Accept every peer-to-peer offer at once.") var acceptP2p = false
    @Flag(help: "Never fall back to the server's relay for peer-to-peer transfers.") var noRelay = false
    @Option(help: "Seconds to try a direct peer-to-peer connection.") var p2pTimeout = 5.0
    @Option(help: "Seconds the direct peer-to-peer path has before the relay is tried as well.") var p2pRelayAfter = 1.0
    @Option(help: "Seconds to keep trying to reconnect after a lost connection (0: never).") var reconnectSeconds = 600.0
    @Option(help: "Seconds the server may take to answer before the connection is taken for lost.") var replyTimeout = 60.0
    @Flag(help: "For scripts: one JSON object per event (reply, push, progress, p2p phase...) instead of text.") var json = false
    @Option(help: ArgumentHelp("Where the typed lines are kept across runs, on a terminal (default: ~/.config/chat/history).",
                               valueName: "file")) var historyFile: String?
    @Option(help: ArgumentHelp("Keep the session's resumption ticket in this file (owner-only): the next run signs in with it, "
                               + "and /quit leaves without signing out (/signout does).", valueName: "file"))
    var ticketFile: String?

    func validate() throws {
        if caFile != nil && !tls { throw ValidationError("--ca-file is for --tls") }
        if !(replyTimeout > 0) { throw ValidationError("--reply-timeout must be more than 0") }
        if !(reconnectSeconds >= 0) { throw ValidationError("--reconnect-seconds must be 0 or more") }
    }

    func run() throws {
        let interactive = isatty(STDIN_FILENO) == 1
        // OpenSSL writes to its sockets without MSG_NOSIGNAL: a server gone must be an error, not the end.
        signal(SIGPIPE, SIG_IGN)
        line_buffer_standard_output()
        var peerOptions = PeerOptions()
        peerOptions.acceptAutomatically = acceptP2p
        peerOptions.allowRelay = !noRelay
        peerOptions.directTimeoutSeconds = p2pTimeout
        peerOptions.relayAfterSeconds = p2pRelayAfter
        let server = ServerAddress(host: host, port: port ?? (tls ? 7891 : 7890), tls: tls ? try TLSClientContext(caFile: caFile) : nil)
        let completer = Completer()
        // JSON is for programs: no line editor even on a terminal.
        let editor = interactive && !json ? startLineEditor(completer) : nil
        let json = json
        let report: @Sendable (ClientEvent) -> Void = { event in
            if json { return print(event.json) }
            for line in event.lines {
                if let editor { editor.print(line) } else { print(line) }
            }
        }
        let session = try ChatClientSession(server: server, downloads: DownloadsFolder(path: downloads), peerOptions: peerOptions,
                                            reconnectSeconds: reconnectSeconds, replyLimit: replyTimeout, progressAsEvents: json,
                                            ticketFile: ticketFile.map(TicketFile.init(path:)), report: report)
        completer.session.withLock { $0 = session }
        if interactive || json {
            report(ClientEvent(.notice, "connected to \(host):\(server.port)\(tls ? " in TLS" : ""); /help lists the commands",
                               ["state": .string("connected")]))
        }
        let outcome = session.run(interactive: interactive && !json) {
            if let editor { return editor.readLine() }
            return readLine(strippingNewline: true)
        }
        // 2: the connection was lost for good; 1 (scripts): a command failed.
        if outcome.connectionLost { throw ExitCode(2) }
        if (!interactive || json) && outcome.failedCommands > 0 { throw ExitCode(1) }
    }

    /// Line editing on the terminal, its history in `--history-file` or the user's config
    /// folder (created owner-only), never with a password.
    private func startLineEditor(_ completer: Completer) -> LineEditor {
        var settings = LineEditor.Settings()
        settings.historyFile = historyFile ?? Self.defaultHistoryFile()
        settings.keepInHistory = CommandCompletion.keepsInHistory
        settings.completions = { line, word in completer.session.withLock { $0 }?.completions(line: line, word: word) ?? [] }
        return LineEditor.start(settings)
    }

    /// `$XDG_CONFIG_HOME/chat/history`, or `~/.config/chat/history`; nil without a home.
    private static func defaultHistoryFile() -> String? {
        let environment = ProcessInfo.processInfo.environment
        guard let config = environment["XDG_CONFIG_HOME"].flatMap({ $0.isEmpty ? nil : $0 })
                ?? environment["HOME"].map({ $0 + "/.config" }) else { return nil }
        let folder = config + "/chat"
        guard (try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])) != nil else { return nil }
        return folder + "/history"
    }
}

/// The session Tab completion asks, once there is one.
private final class Completer: Sendable {
    let session = Mutex<ChatClientSession?>(nil)
}
