import Dispatch
import Foundation
import NIOCore
import NIOPosix

/// P pairs over IRC: the peer's side of the comparison (ngIRCd, or the minimal relay).
struct IRCBenchmark {
    let options: TextBenchmark.Options
    let operatorLogin: (String, String)?

    func run(beforeMessages: () -> Void = {}) throws -> TextBenchmark.Result {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: options.threads)
        defer { try? group.syncShutdownGracefully() }
        let signInStart = DispatchTime.now().uptimeNanoseconds
        var pairs: [IRCPair] = []
        var connections: [IRCConnection] = []
        for index in 0..<options.pairs {
            let eventLoop = group.next()
            let pair = IRCPair(sender: "s\(options.uidBase + index)", receiver: "r\(options.uidBase + index)",
                               count: options.messagesEachSenderSends, window: options.window, bodySize: options.bodySize, eventLoop: eventLoop)
            let receiver = IRCConnection(nick: pair.receiver, pair: pair, isSender: false, operatorLogin: nil, eventLoop: eventLoop)
            let sender = IRCConnection(nick: pair.sender, pair: pair, isSender: true, operatorLogin: operatorLogin, eventLoop: eventLoop)
            pair.senderConnection = sender
            for connection in [receiver, sender] {
                _ = try ClientBootstrap(group: eventLoop)
                    .channelOption(.socket(IPPROTO_TCP, TCP_NODELAY), value: 1)
                    .channelInitializer { $0.pipeline.addHandler(connection) }
                    .connect(host: options.host, port: options.port).wait()
                connections.append(connection)
            }
            pairs.append(pair)
            // ngIRCd's listen backlog is 10: pace the connects.
            if index % 5 == 4 { for connection in connections.suffix(10) { try connection.ready.futureResult.wait() } }
        }
        for connection in connections { try connection.ready.futureResult.wait() }
        let signInSeconds = Double(DispatchTime.now().uptimeNanoseconds - signInStart) / 1e9

        beforeMessages()
        let start = DispatchTime.now().uptimeNanoseconds
        for pair in pairs { pair.finished.futureResult.eventLoop.execute { pair.pump() } }
        let done = EventLoopFuture.andAllComplete(pairs.map(\.finished.futureResult), on: group.next())
        let timeout = group.next().scheduleTask(in: .milliseconds(Int64(options.timeoutSeconds * 1000))) {}
        _ = try? EventLoopFuture.whenAnyComplete([done, timeout.futureResult], on: group.next()).wait()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let tallies = try pairs.map { pair in
            try pair.finished.futureResult.eventLoop.submit { (pair.received, pair.latencies) }.wait()
        }
        for connection in connections { connection.ready.futureResult.eventLoop.execute { connection.close() } }
        return TextBenchmark.Result(delivered: tallies.reduce(0) { $0 + $1.0 }, refused: 0, seconds: seconds,
                                    latency: LatencySummary(tallies.flatMap(\.1)), signInSeconds: signInSeconds)
    }
}
