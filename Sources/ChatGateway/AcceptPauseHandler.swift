import Logging
import NIOCore

/// On the listening channel: when `accept` fails for want of descriptors or memory, stops
/// accepting for `AcceptBackoff`'s pause instead of retrying at once.
///
/// NIO's own `AcceptBackoffHandler` does not help with the classic `ServerBootstrap`: it
/// delays the next `read()` the channel asks for, and after a failed accept the channel asks
/// for none. `ServerSocketChannel` clears `readPending` only when an accept succeeds, so when
/// the first accept of a wake-up fails, `BaseSocketChannel.readable0` neither drops its
/// interest in readability (it does so only without a read pending) nor calls `read()`; the
/// connections still queued keep the listening socket readable, and epoll (level-triggered)
/// wakes the loop again at once: accept, EMFILE, a whole core spent on it. Turning `autoRead`
/// off removes the interest; turning it back on after the pause asks for a read again.
final class AcceptPauseHandler: ChannelInboundHandler {
    typealias InboundIn = Channel
    typealias InboundOut = Channel

    private var backoff = AcceptBackoff()
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        backoff.accepted()
        // Failures not reported yet (the last minute of a shortage) go with the first accept
        // due a report.
        if let failures = backoff.failuresToReport(now: .now(), every: .minutes(1)) {
            logger.warning("accept failed; pausing accepts", metadata: ["gateway.accept_failures": "\(failures)"])
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard AcceptBackoff.isResourceShortage(error) else { return context.fireErrorCaught(error) }
        let pause = backoff.failed()
        if let failures = backoff.failuresToReport(now: .now(), every: .minutes(1)) {
            logger.warning("accept failed; pausing accepts", metadata: [
                "gateway.error": "\(error)",
                "gateway.accept_failures": "\(failures)",
                "gateway.pause_ms": "\(pause.nanoseconds / 1_000_000)",
            ])
        }
        let channel = context.channel
        try? channel.syncOptions?.setOption(ChannelOptions.autoRead, value: false)
        channel.eventLoop.scheduleTask(in: pause) {
            channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
        }
    }
}
