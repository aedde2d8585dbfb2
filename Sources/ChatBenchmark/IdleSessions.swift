import ChatProtocol
import Dispatch
import Foundation
import NIOCore
import NIOPosix

/// Many signed-in sessions doing nothing: what each costs the server in memory, and how fast
/// the server signs them in.
struct IdleSessions {
    struct Result {
        let sessions: Int
        let signInsPerSecond: Double
        let residentBeforeKiB: Int
        let residentAfterKiB: Int
        var kibPerSession: Double { Double(residentAfterKiB - residentBeforeKiB) / Double(max(sessions, 1)) }
    }

    let port: Int
    let sessions: Int
    let irc: Bool
    let uidBase: Int

    /// Opens the sessions, measures, and keeps them open until `measure` returns.
    func run(pids: () -> [Int32]) throws -> Result {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let before = pids().compactMap { ProcessStats.usage(of: $0)?.residentKiB }.reduce(0, +)
        var handlers: [IdleSession] = []
        let start = DispatchTime.now().uptimeNanoseconds
        for index in 0..<sessions {
            let name = irc ? "i\(uidBase + index)" : String(format: "%06d", uidBase + index)
            let handler = IdleSession(name: name, irc: irc, eventLoop: group.next())
            _ = try ClientBootstrap(group: group)
                .channelInitializer { $0.pipeline.addHandler(handler) }
                .connect(host: "127.0.0.1", port: port).wait()
            handlers.append(handler)
            // Pace connects to the accept backlog (ngIRCd's is 10).
            if index % 8 == 7 { for handler in handlers.suffix(8) { try handler.ready.futureResult.wait() } }
        }
        for handler in handlers { try handler.ready.futureResult.wait() }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        Thread.sleep(forTimeInterval: 1)
        let after = pids().compactMap { ProcessStats.usage(of: $0)?.residentKiB }.reduce(0, +)
        for handler in handlers { handler.ready.futureResult.eventLoop.execute { handler.close() } }
        return Result(sessions: sessions, signInsPerSecond: Double(sessions) / seconds, residentBeforeKiB: before, residentAfterKiB: after)
    }
}

/// Unchecked: a NIO handler; once its channel is up, its state is touched on the channel's event
/// loop only (it is closed there, with `execute`).
final class IdleSession: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let name: String
    private let irc: Bool
    private var scanner = LineScanner()
    private var repliesLeft = 2
    private var context: ChannelHandlerContext?
    let ready: EventLoopPromise<Void>

    init(name: String, irc: Bool, eventLoop: EventLoop) {
        self.name = name
        self.irc = irc
        ready = eventLoop.makePromise()
        ready.failAfterSignInTimeout(on: eventLoop)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        let hello = irc ? Array("NICK \(name)\r\nUSER \(name) 0 * :idle\r\n".utf8)
                        : ClientCommand.signUp(uid: name, password: "idle_pw").bytes + ClientCommand.signIn(uid: name, password: "idle_pw").bytes
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: hello)), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        struct Closed: Error {}
        ready.fail(Closed())
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        scanner.scan(unwrapInboundIn(data)) { line in
            if irc {
                if line.starts(with: "PING".utf8) {
                    let pong = "PONG" + String(decoding: line.dropFirst(4), as: UTF8.self) + "\r\n"
                    context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: pong)), promise: nil)
                } else if LineScanner.find(" 001 ", in: line) != nil {
                    ready.succeed(())
                }
            } else {
                repliesLeft -= 1
                if repliesLeft == 0 { ready.succeed(()) }
            }
        }
    }

    func close() { context?.close(promise: nil) }
}
