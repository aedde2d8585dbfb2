import ChatProtocol
import Dispatch
import NIOCore

/// One load-generator connection speaking the chat protocol: signs in, then sends (keeping
/// a window of texts in flight) or receives (timing each text by the send time in its body).
/// Bytes are handled in place and messages written in batches, so the generator costs far
/// less per message than the system it measures.
///
/// Unchecked: a NIO handler; once its channel is up, its state is touched on the channel's event
/// loop only (the benchmark starts, reads and closes it there, with `execute` and `submit`).
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
    private var scanner = LineScanner()
    private var context: ChannelHandlerContext?
    private var loginRepliesLeft = 2
    private var started = false
    let signedIn: EventLoopPromise<Void>
    let finished: EventLoopPromise<Void>
    /// `uid to peer 202004131702 text\n`, the same for every message of a sender.
    private let header: [UInt8]

    private var sent = 0
    private var acknowledged = 0
    private(set) var refused = 0
    /// The first reply other than `ok`, to say what went wrong.
    private(set) var firstRefusal: String?
    private var awaitingContent = false
    private(set) var received = 0
    private(set) var latencies: [UInt64] = []

    init(uid: String, password: String, role: Role, eventLoop: EventLoop) {
        self.uid = uid
        self.password = password
        self.role = role
        signedIn = eventLoop.makePromise()
        signedIn.failAfterSignInTimeout(on: eventLoop)
        finished = eventLoop.makePromise()
        if case .sender(let peer, _, _, _) = role {
            header = MessageHeader(sender: uid, recipient: peer, timestamp: "202004131702", kind: .text).line + [UInt8(ascii: "\n")]
        } else {
            header = []
        }
        if case .receiver(let count) = role { latencies.reserveCapacity(count) }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        let signUpAndIn = ClientCommand.signUp(uid: uid, password: password).bytes + ClientCommand.signIn(uid: uid, password: password).bytes
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: signUpAndIn)), promise: nil)
    }

    /// Set when the server closed the connection before the run ended.
    private(set) var closedEarly = false

    func channelInactive(context: ChannelHandlerContext) {
        struct Closed: Error {}
        closedEarly = true
        signedIn.fail(Closed())
        finished.fail(Closed())
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var freed = 0
        scanner.scan(unwrapInboundIn(data)) { line in
            if loginRepliesLeft > 0 { return signInReply(line) }
            switch role {
            case .sender(_, let count, _, _):
                // `ok` or `Target user offline`: either way the text is durable and a slot is free.
                // Matched in place rather than by `ServerReply(line:)`, which would copy every
                // reply: the generator must cost far less per text than the server it measures.
                if !(line.count == 2 && line[0] == UInt8(ascii: "o") && line[1] == UInt8(ascii: "k")) {
                    refused += 1
                    if firstRefusal == nil { firstRefusal = String(decoding: line, as: UTF8.self) }
                }
                acknowledged += 1
                freed += 1
                if acknowledged == count { finished.succeed(()) }
            case .receiver(let expected):
                // Pushes come as header and content lines; only the content (its send time) is
                // read, in place: decoding each push with `PushFirstLine` would allocate per text.
                if awaitingContent {
                    awaitingContent = false
                    received += 1
                    if let sentAt = LineScanner.sendTime(in: line, at: 0) {
                        latencies.append(DispatchTime.now().uptimeNanoseconds &- sentAt)
                    }
                    if received == expected { finished.succeed(()) }
                } else {
                    awaitingContent = true
                }
            }
        }
        if freed > 0 { send(freed) }
        if case .receiver = role { rearmQuickAck(context) }
    }

    func close() {
        finished.succeed(())
        context?.close(promise: nil)
    }

    /// Starts sending the first window (senders only).
    func start() {
        guard case .sender(_, _, let window, _) = role, !started else { return }
        started = true
        send(window)
    }

    private func signInReply(_ line: UnsafeRawBufferPointer) {
        loginRepliesLeft -= 1
        guard loginRepliesLeft == 0 else { return }
        if ServerReply(line: Array(line)) == .signInSucceeded {
            signedIn.succeed(())
        } else {
            struct SignInFailed: Error { let reply: String }
            signedIn.fail(SignInFailed(reply: String(decoding: line, as: UTF8.self)))
        }
        if case .receiver(0) = role { finished.succeed(()) }
    }

    /// Sends up to `slots` more messages in one write.
    private func send(_ slots: Int) {
        guard case .sender(_, let count, _, let bodySize) = role, let context else { return }
        let batch = min(slots, count - sent)
        guard batch > 0 else { return }
        var buffer = context.channel.allocator.buffer(capacity: batch * (header.count + bodySize + 1))
        writeTimestampedMessages(batch, into: &buffer, prefix: header, bodySize: bodySize, suffix: "\n",
                                 now: DispatchTime.now().uptimeNanoseconds)
        sent += batch
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }
}
