import Dispatch
import Foundation
import NIOCore

/// The same workload as `BenchmarkConnection`, spoken as IRC (to ngIRCd or the minimal
/// relay): senders PRIVMSG their receiver, and with no per-message ack in IRC the window
/// counts messages sent but not yet received, kept by the pair (both ends share an event loop).
///
/// Unchecked: set up before its connections connect, then touched on the pair's event loop only
/// (the benchmark pumps it and reads its counters there, with `execute` and `submit`).
final class IRCPair: @unchecked Sendable {
    let sender: String
    let receiver: String
    let count: Int
    let window: Int
    let bodySize: Int
    var sent = 0
    var received = 0
    var latencies: [UInt64] = []
    var senderConnection: IRCConnection?
    let finished: EventLoopPromise<Void>
    /// `PRIVMSG receiver :`, the same for every message.
    let prefix: [UInt8]

    init(sender: String, receiver: String, count: Int, window: Int, bodySize: Int, eventLoop: EventLoop) {
        self.sender = sender
        self.receiver = receiver
        self.count = count
        self.window = window
        self.bodySize = bodySize
        prefix = Array("PRIVMSG \(receiver) :".utf8)
        finished = eventLoop.makePromise()
        latencies.reserveCapacity(count)
    }

    /// Tops the window up, in one write (on the pair's event loop).
    func pump() {
        let batch = min(count - sent, window - (sent - received))
        guard batch > 0, let senderConnection else { return }
        senderConnection.writeMessages(batch, prefix: prefix, bodySize: bodySize)
        sent += batch
    }

    func delivered(sentAt: UInt64?) {
        received += 1
        if let sentAt { latencies.append(DispatchTime.now().uptimeNanoseconds &- sentAt) }
        if received == count { finished.succeed(()) }
    }
}

/// Unchecked: a NIO handler; once its channel is up, its state is touched on the channel's event
/// loop only (it is closed there, with `execute`).
final class IRCConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let nick: String
    private let pair: IRCPair
    private let isSender: Bool
    private let operatorLogin: (name: String, password: String)?
    private var scanner = LineScanner()
    private var context: ChannelHandlerContext?
    let ready: EventLoopPromise<Void>

    init(nick: String, pair: IRCPair, isSender: Bool, operatorLogin: (String, String)?, eventLoop: EventLoop) {
        self.nick = nick
        self.pair = pair
        self.isSender = isSender
        self.operatorLogin = operatorLogin
        ready = eventLoop.makePromise()
        ready.failAfterSignInTimeout(on: eventLoop)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        writeText("NICK \(nick)\r\nUSER \(nick) 0 * :bench\r\n")
    }

    func channelInactive(context: ChannelHandlerContext) {
        struct Closed: Error {}
        ready.fail(Closed())
        pair.finished.fail(Closed())
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var delivered = false
        scanner.scan(unwrapInboundIn(data)) { line in
            if !isSender, let body = LineScanner.find(" :t=", in: line) {
                pair.delivered(sentAt: LineScanner.sendTime(in: line, at: body + 2))
                delivered = true
            } else {
                handleControl(line)
            }
        }
        if delivered { pair.pump() }
        // ngIRCd does not set TCP_NODELAY: ack at once so delayed ACKs do not decide the race.
        if !isSender { rearmQuickAck(context) }
    }

    private func handleControl(_ line: UnsafeRawBufferPointer) {
        if line.starts(with: "PING".utf8) {
            writeText("PONG" + String(decoding: line.dropFirst(4), as: UTF8.self) + "\r\n")
        } else if LineScanner.find(" 001 ", in: line) != nil {
            if isSender, let operatorLogin {
                writeText("OPER \(operatorLogin.name) \(operatorLogin.password)\r\nMODE \(nick) +F\r\n")
            } else {
                ready.succeed(())
            }
        } else if LineScanner.find(" 381 ", in: line) != nil {
            ready.succeed(())
        }
    }

    func writeMessages(_ count: Int, prefix: [UInt8], bodySize: Int) {
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: count * (prefix.count + bodySize + 2))
        writeTimestampedMessages(count, into: &buffer, prefix: prefix, bodySize: bodySize, suffix: "\r\n",
                                 now: DispatchTime.now().uptimeNanoseconds)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    private func writeText(_ text: String) {
        guard let context else { return }
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: text)), promise: nil)
    }

    func close() { context?.close(promise: nil) }
}
