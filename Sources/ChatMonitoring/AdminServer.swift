import Foundation
import Logging
import NIOCore
import NIOPosix

/// The supervisor's admin socket, `<data_dir>/admin.sock`: `chatd status` and `chatd reload`
/// talk to it (`AdminRequest` is its protocol). A Unix domain socket only its owner may use
/// (mode 0600, made so before anyone can connect), removed on `stop()`; a socket file left by
/// a supervisor that died is replaced at start, one still answering is refused.
public final class AdminServer: Sendable {
    public enum StartError: Error, CustomStringConvertible {
        /// Another supervisor answers there: two on one data folder would share its files.
        case inUse(path: String)
        /// Something that is not a socket has the name: not ours to remove.
        case notASocket(path: String)

        public var description: String {
            switch self {
            case .inUse(let path): "another chatd answers on \(path) (one supervisor per data folder)"
            case .notASocket(let path): "\(path) exists and is not a socket; remove it"
            }
        }
    }

    /// Where a supervisor with this data folder listens.
    public static func path(dataDirectory: String) -> String {
        "\(dataDirectory)/admin.sock"
    }

    public let path: String
    private let group: MultiThreadedEventLoopGroup
    private let channel: Channel

    /// Binds and listens at once, so a socket that cannot be made is a start-up error.
    /// `onReload` answers `reload` (it runs on a queue of its own, one request at a time);
    /// `idleTimeout` bounds how long a client may take to send its line.
    public init(path: String, system: MonitoredSystem, onReload: @escaping @Sendable () -> String,
                idleTimeout: Duration = .seconds(5), logger: Logger) throws {
        self.path = path
        let idleTimeout = TimeAmount.nanoseconds(idleTimeout.components.seconds * 1_000_000_000 + idleTimeout.components.attoseconds / 1_000_000_000)
        try Self.removeStaleSocket(at: path)
        let answers = DispatchQueue(label: "admin-socket")
        let respond: @Sendable (AdminRequest.Command) -> String = { command in
            switch command {
            case .status: Self.json(system.status())
            case .reload: onReload()
            }
        }
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        AdminConnectionHandler(idleTimeout: idleTimeout, answers: answers, respond: respond, logger: logger))
                }
            }
        // Created owner-only: with the default umask the socket would be connectable by others
        // between bind and a later chmod. The umask is the process's, and this runs at start-up.
        let previousMask = umask(0o177)
        do {
            channel = try bootstrap.bind(unixDomainSocketPath: path).wait()
            umask(previousMask)
        } catch {
            umask(previousMask)
            try? group.syncShutdownGracefully()
            throw error
        }
        chmod(path, 0o600)
        // The last minute's bus timeouts need a sample every few seconds, asked for or not.
        group.next().scheduleRepeatedTask(initialDelay: .seconds(5), delay: .seconds(5)) { _ in system.sampleTelemetry() }
        logger.info("admin socket listening", metadata: ["admin.path": "\(path)"])
    }

    /// Stops listening and removes the socket file.
    public func stop() {
        try? channel.close().wait()
        unlink(path)
        try? group.syncShutdownGracefully()
    }

    static func json(_ status: SystemStatus) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(status) else { return "error: the status could not be encoded" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Throws `inUse` when a supervisor answers at `path`. A supervisor calls it before it
    /// binds anything else in the data folder: binding the telemetry endpoint first would take
    /// the running one's (ZeroMQ replaces an `ipc://` file) before failing.
    public static func refuseIfInUse(path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else { return }
        if (try? AdminClient.connect(to: path)).map({ close($0) }) != nil { throw StartError.inUse(path: path) }
    }

    private static func removeStaleSocket(at path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else { throw StartError.notASocket(path: path) }
        try refuseIfInUse(path: path)
        unlink(path)
    }
}

/// One admin connection: reads its line (`AdminRequest`), answers on the admin queue, closes.
/// A client that sends nothing whole within the idle timeout is told so and closed.
private final class AdminConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var request = AdminRequest()
    private var answered = false
    private var idle: Scheduled<Void>?
    private let idleTimeout: TimeAmount
    private let answers: DispatchQueue
    private let respond: @Sendable (AdminRequest.Command) -> String
    private let logger: Logger

    init(idleTimeout: TimeAmount, answers: DispatchQueue, respond: @escaping @Sendable (AdminRequest.Command) -> String, logger: Logger) {
        self.idleTimeout = idleTimeout
        self.answers = answers
        self.respond = respond
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        let seconds = Double(idleTimeout.nanoseconds) / 1e9
        idle = context.eventLoop.assumeIsolated().scheduleTask(in: idleTimeout) { [self] in
            handle(.refused("error: no request within \(seconds) s"), channel: context.channel)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        let bytes = unwrapInboundIn(data)
        handle(request.receive(bytes.readableBytesView), channel: context.channel)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event, !answered { handle(request.endOfInput(), channel: context.channel) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        idle?.cancel()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private func handle(_ outcome: AdminRequest.Outcome, channel: Channel) {
        let respond = self.respond
        switch outcome {
        case .needMore:
            return
        case .refused(let line):
            answered = true
            idle?.cancel()
            logger.notice("admin socket: refused a request", metadata: ["admin.reply": "\(line)"])
            Self.answer(line, on: channel)
        case .command(let command):
            answered = true
            idle?.cancel()
            // Off the event loop: a reload may take a while, and status waits for the supervisor's queue.
            answers.async { Self.answer(respond(command), on: channel) }
        }
    }

    private static func answer(_ text: String, on channel: Channel) {
        let buffer = channel.allocator.buffer(string: text.hasSuffix("\n") ? text : text + "\n")
        channel.writeAndFlush(buffer).whenComplete { _ in channel.close(promise: nil) }
    }
}
