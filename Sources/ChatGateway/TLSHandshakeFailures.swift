import ChatBus
import CoreMetrics
import Logging
import NIOCore
import NIOSSL
import Synchronization

/// Failed TLS handshakes on the TLS port, counted (`chat_tls_handshake_failures_total`) and
/// told in the log at notice level at most once a minute: the first at once, then how many
/// since, with the latest reason and address. A client that does not trust the certificate,
/// or speaks plaintext to the TLS port, shows here rather than only at debug level.
final class TLSHandshakeFailures: Sendable {
    private struct Latest: Sendable {
        var throttle = ReportThrottle()
        var reason = ""
        var address = ""
    }

    private let state = Mutex(Latest())
    private let counter = Counter(label: "chat_tls_handshake_failures_total")
    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    func failed(_ error: Error, from address: SocketAddress?) {
        counter.increment()
        state.withLock {
            $0.throttle.unreported += 1
            $0.reason = "\(error)"
            $0.address = address?.ipAddress ?? "unknown"
        }
        reportIfDue()
    }

    /// Also asked with each new TLS connection, so a burst's last failures are told too.
    func reportIfDue() {
        let now = NIODeadline.now().uptimeNanoseconds
        let report = state.withLock { latest in
            latest.throttle.report(now: now, every: UInt64(TimeAmount.minutes(1).nanoseconds)).map { ($0, latest.reason, latest.address) }
        }
        guard let (count, reason, address) = report else { return }
        logger.notice("TLS handshakes failed", metadata: [
            "gateway.tls_failures": "\(count)", "gateway.latest_error": "\(reason)", "gateway.latest_address": "\(address)",
        ])
    }

    /// The handler, right behind the TLS one, that sees its handshake errors go by.
    func watch() -> Watch { Watch(failures: self) }

    final class Watch: ChannelInboundHandler, Sendable {
        typealias InboundIn = NIOAny
        private let failures: TLSHandshakeFailures

        init(failures: TLSHandshakeFailures) { self.failures = failures }

        func channelActive(context: ChannelHandlerContext) {
            failures.reportIfDue()
            context.fireChannelActive()
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            if case NIOSSLError.handshakeFailed = error { failures.failed(error, from: context.remoteAddress) }
            context.fireErrorCaught(error)
        }
    }
}
