import Dispatch
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// P sender/receiver pairs over real TCP: each sender keeps W texts in flight (a reply frees a
/// slot), each receiver times every message by the send time in its body.
public struct TextBenchmark {
    public struct Options: Sendable {
        public var host = "127.0.0.1"
        public var port = 7890
        public var pairs = 50
        public var window = 32
        public var bodySize = 64
        /// Messages each sender sends; nil for the default, `defaultMessagesPerSender(pairs:)`.
        public var messagesPerSender: Int?
        public var threads = 1
        /// uids are `uidBase + 2i` (sender) and `uidBase + 2i + 1` (receiver).
        public var uidBase = 500_000
        public var password = "benchmark_password"
        public var timeoutSeconds = 300.0
        /// The certificate (PEM file) to trust when `port` is a TLS port; nil for plaintext.
        public var tlsTrust: String?

        public init() {}

        /// Messages per sender when none is asked for: three million in all, so that a run
        /// lasts seconds even against the fastest target (the minimal relay, over a million a
        /// second), and starting and draining the windows are a small part of it.
        public static func defaultMessagesPerSender(pairs: Int) -> Int { max(200, 3_000_000 / pairs) }

        /// What each sender sends in this run.
        public var messagesEachSenderSends: Int { messagesPerSender ?? Self.defaultMessagesPerSender(pairs: pairs) }
    }

    public struct Result: Sendable {
        public let delivered: Int
        public let refused: Int
        public let seconds: Double
        public let latency: LatencySummary
        public let signInSeconds: Double
        public var messagesPerSecond: Double { Double(delivered) / seconds }
    }

    public let options: Options

    public init(options: Options) { self.options = options }

    /// `beforeMessages` runs once everyone is signed in, just before the first message.
    public func run(beforeMessages: () -> Void = {}) throws -> Result {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: options.threads)
        defer { try? group.syncShutdownGracefully() }
        let tls = try options.tlsTrust.map(Self.tlsContext(trusting:))

        let signInStart = DispatchTime.now().uptimeNanoseconds
        // Receivers first, so every message finds its recipient online.
        var receivers: [BenchmarkConnection] = []
        var senders: [BenchmarkConnection] = []
        for index in 0..<options.pairs {
            let sender = String(format: "%06d", options.uidBase + 2 * index)
            let receiver = String(format: "%06d", options.uidBase + 2 * index + 1)
            receivers.append(try connect(uid: receiver, role: .receiver(expecting: options.messagesEachSenderSends), group: group, tls: tls))
            senders.append(try connect(uid: sender, role: .sender(to: receiver, count: options.messagesEachSenderSends,
                                                                    window: options.window, bodySize: options.bodySize), group: group, tls: tls))
            // Pace connects so the accept backlog never overflows.
            if index % 100 == 99 { try waitSignedIn(receivers.suffix(100) + senders.suffix(100)) }
        }
        try waitSignedIn(receivers + senders)
        let signInSeconds = Double(DispatchTime.now().uptimeNanoseconds - signInStart) / 1e9

        beforeMessages()
        let start = DispatchTime.now().uptimeNanoseconds
        for sender in senders {
            sender.finished.futureResult.eventLoop.execute { sender.start() }
        }
        // Every sender answered, then every receiver served, each within its own time: a text
        // the server refused (`Service unavailable`) is never pushed, so receivers get a grace
        // period rather than the whole timeout.
        for (futures, seconds) in [(senders.map(\.finished.futureResult), options.timeoutSeconds),
                                   (receivers.map(\.finished.futureResult), 10)] {
            let done = EventLoopFuture.andAllComplete(futures, on: group.next())
            let timeout = group.next().scheduleTask(in: .milliseconds(Int64(seconds * 1000))) {}
            _ = try? EventLoopFuture.whenAnyComplete([done, timeout.futureResult], on: group.next()).wait()
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9

        // Read the counters on each connection's own event loop.
        let tallies = try (receivers + senders).map { connection in
            try connection.finished.futureResult.eventLoop.submit {
                (connection.received, connection.refused, connection.latencies, connection.closedEarly)
            }.wait()
        }
        let refusals = try senders.compactMap { sender in
            try sender.finished.futureResult.eventLoop.submit { sender.firstRefusal }.wait()
        }
        if let example = refusals.first {
            FileHandle.standardError.write(Data("chat-bench: some texts were answered '\(example)'\n".utf8))
        }
        let closed = tallies.filter(\.3).count
        if closed > 0 {
            FileHandle.standardError.write(Data("chat-bench: the server closed \(closed) of \(tallies.count) connections during the run\n".utf8))
        }
        for connection in senders + receivers {
            connection.finished.futureResult.eventLoop.execute { connection.close() }
        }
        let delivered = tallies.reduce(0) { $0 + $1.0 }
        return Result(delivered: delivered, refused: tallies.reduce(0) { $0 + $1.1 }, seconds: seconds,
                      latency: LatencySummary(tallies.flatMap(\.2)), signInSeconds: signInSeconds)
    }

    /// One TLS context for every connection: trusting the one certificate, whose name the
    /// benchmark does not check (it measures the cost of TLS, not who the server is).
    static func tlsContext(trusting certificate: String) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .file(certificate)
        configuration.certificateVerification = .noHostnameVerification
        return try NIOSSLContext(configuration: configuration)
    }

    private func connect(uid: String, role: BenchmarkConnection.Role, group: EventLoopGroup, tls: NIOSSLContext?) throws -> BenchmarkConnection {
        let eventLoop = group.next()
        let connection = BenchmarkConnection(uid: uid, password: options.password, role: role, eventLoop: eventLoop)
        _ = try ClientBootstrap(group: eventLoop)
            .channelOption(.socket(IPPROTO_TCP, TCP_NODELAY), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: nil)) }
                    try channel.pipeline.syncOperations.addHandler(connection)
                }
            }
            .connect(host: options.host, port: options.port)
            .wait()
        return connection
    }

    private func waitSignedIn(_ connections: [BenchmarkConnection]) throws {
        for connection in connections { try connection.signedIn.futureResult.wait() }
    }
}

extension EventLoopFuture where Value == Void {
    /// Completes when the first of `futures` completes.
    static func whenAnyComplete(_ futures: [EventLoopFuture<Void>], on eventLoop: EventLoop) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        for future in futures { future.whenComplete { _ in promise.succeed(()) } }
        return promise.futureResult
    }
}
