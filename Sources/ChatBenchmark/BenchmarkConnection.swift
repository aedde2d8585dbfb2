import ChatProtocol
import Dispatch
import NIOCore

/// One load-generator connection: signs in, then sends (keeping a window of messages in
/// flight) or receives (timing each message by the send time in its body).
final class BenchmarkConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Role {
        case sender(to: String, count: Int, window: Int, bodySize: Int)
        case receiver(expecting: Int)
    }

    private let uid: String
    private let password: String
    private let role: Role
    private var framer = LineFramer()
    private var context: ChannelHandlerContext?
    private var loginRepliesLeft = 2
    let signedIn: EventLoopPromise<Void>
    let finished: EventLoopPromise<Void>

    private var sent = 0
    private var acknowledged = 0
    private(set) var refused = 0
    private var awaitingContent = false
    private(set) var received = 0
    private(set) var latencies: [UInt64] = []

    init(uid: String, password: String, role: Role, eventLoop: EventLoop) {
        self.uid = uid
        self.password = password
        self.role = role
        signedIn = eventLoop.makePromise()
        finished = eventLoop.makePromise()
        if case .receiver(let count) = role { latencies.reserveCapacity(count) }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        write("signup \(uid) \(password)\nsignin \(uid) \(password)\n")
        context.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        struct Closed: Error {}
        signedIn.fail(Closed())
        finished.fail(Closed())
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        unwrapInboundIn(data).withUnsafeReadableBytes { framer.append($0) }
        while case .line(let line)? = framer.next() { handle(line) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func close() { context?.close(promise: nil) }

    /// Starts sending the first window (senders only).
    func start() {
        guard case .sender(_, let count, let window, _) = role else { return }
        for _ in 0..<min(window, count) { sendNext() }
        context?.flush()
    }

    private func handle(_ line: [UInt8]) {
        if loginRepliesLeft > 0 {
            loginRepliesLeft -= 1
            if loginRepliesLeft == 0 {
                if line == Array("signin successfully".utf8) {
                    signedIn.succeed(())
                } else {
                    struct SignInFailed: Error { let reply: String }
                    signedIn.fail(SignInFailed(reply: String(decoding: line, as: UTF8.self)))
                }
                if case .receiver(0) = role { finished.succeed(()) }
            }
            return
        }
        switch role {
        case .sender(_, let count, _, _):
            // `ok` or `Target user offline`: either way the message is durable and a slot is free.
            if line != Array("ok".utf8) { refused += 1 }
            acknowledged += 1
            if sent < count { sendNext() }
            if acknowledged == count { finished.succeed(()) }
        case .receiver(let expected):
            if awaitingContent {
                awaitingContent = false
                received += 1
                if let sentAt = Self.sendTime(in: line) {
                    latencies.append(DispatchTime.now().uptimeNanoseconds &- sentAt)
                }
                if received == expected { finished.succeed(()) }
            } else {
                awaitingContent = true
            }
        }
    }

    private func sendNext() {
        guard case .sender(let peer, _, _, let bodySize) = role else { return }
        sent += 1
        let stamp = "t=\(DispatchTime.now().uptimeNanoseconds);"
        let padding = String(repeating: "x", count: max(0, bodySize - stamp.utf8.count))
        write("\(uid) to \(peer) 202004131702 text\n\(stamp)\(padding)\n")
    }

    private static func sendTime(in body: [UInt8]) -> UInt64? {
        guard body.count > 2, body[0] == UInt8(ascii: "t"), body[1] == UInt8(ascii: "=") else { return nil }
        var value: UInt64 = 0
        for byte in body.dropFirst(2) {
            guard byte >= 48 && byte <= 57 else { break }
            value = value * 10 + UInt64(byte - 48)
        }
        return value
    }

    private func write(_ text: String) {
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        context.write(wrapOutboundOut(buffer), promise: nil)
    }
}
