import CLibSSL
import Glibc
import Synchronization

/// A TLS client session over a connected TCP socket, for blocking-style code: one thread may
/// read while others write (one write at a time: a write OpenSSL could not finish must be
/// retried with the same bytes before another starts). The socket is made non-blocking and
/// each call waits in `poll` outside the session's lock, so a reader waiting for bytes never
/// holds up a writer (OpenSSL allows one call at a time per session, hence the lock).
///
/// The caller keeps the descriptor and closes it (this never does: freeing the session
/// leaves it alone), and ignores SIGPIPE: OpenSSL writes to the socket with `write`.
///
/// Unchecked: the `SSL` session is only touched under `session`'s lock, which also holds
/// whether it failed (after which OpenSSL must not be asked to shut it down).
public final class TLSConnection: @unchecked Sendable {
    public let descriptor: Int32
    private let ssl: OpaquePointer
    private let session = Mutex(false)
    private let writing = Mutex(())
    /// Keeps the context alive as long as the session that refers to it.
    private let context: TLSClientContext

    /// Makes the handshake with the server at `descriptor`, checking that its certificate is
    /// trusted and names `serverName` (a DNS name, or an IP address written as one), within
    /// `timeout`.
    public init(over descriptor: Int32, serverName: String, context: TLSClientContext, timeout: Duration) throws {
        guard let ssl = SSL_new(context.context) else { throw TLSFailure.fromQueue("cannot start TLS") }
        self.ssl = ssl
        self.descriptor = descriptor
        self.context = context
        try Self.expect(serverName, on: ssl)
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        guard SSL_set_fd(ssl, descriptor) == 1 else { throw TLSFailure.fromQueue("cannot start TLS") }
        let deadline = ContinuousClock.now + timeout
        while true {
            // OpenSSL reads this thread's error queue to classify a result: start it empty.
            ERR_clear_error()
            let result = SSL_connect(ssl)
            if result == 1 { return }
            let error = SSL_get_error(ssl, result)
            guard error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE else {
                throw handshakeFailure(error)
            }
            switch wait(for: error, until: deadline) {
            case .ready: continue
            case .timedOut: throw TLSFailure("TLS handshake timed out")
            case .failed: throw TLSFailure("TLS handshake failed: \(String(cString: strerror(errno)))")
            }
        }
    }

    deinit { SSL_free(ssl) }

    /// The name the certificate must carry, and the name sent to the server (SNI, which is
    /// for DNS names only).
    private static func expect(_ serverName: String, on ssl: OpaquePointer) throws {
        var address = in6_addr()
        let isAddress = inet_pton(AF_INET, serverName, &address) == 1 || inet_pton(AF_INET6, serverName, &address) == 1
        if isAddress {
            guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName) == 1 else {
                throw TLSFailure.fromQueue("cannot check the certificate against \(serverName)")
            }
        } else {
            guard SSL_set1_host(ssl, serverName) == 1, chat_ssl_set_server_name(ssl, serverName) == 1 else {
                throw TLSFailure.fromQueue("cannot check the certificate against \(serverName)")
            }
        }
    }

    /// Why the handshake failed: the certificate check's reason when that was it.
    private func handshakeFailure(_ error: Int32) -> TLSFailure {
        let verification = SSL_get_verify_result(ssl)
        if verification != X509_V_OK {
            ERR_clear_error()
            let reason = String(cString: X509_verify_cert_error_string(verification))
            return TLSFailure("the server's certificate is not trusted: \(reason)", isCertificateRefused: true)
        }
        if error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 { return TLSFailure("the server closed the connection during the TLS handshake") }
        return TLSFailure.fromQueue("TLS handshake failed")
    }

    /// Sends all of `bytes`; false once the connection is lost.
    public func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        writing.withLock { _ in
            var offset = 0
            while offset < bytes.count {
                let (written, error) = session.withLock { failed in
                    ERR_clear_error()
                    let written = SSL_write(ssl, bytes.baseAddress! + offset, Int32(clamping: bytes.count - offset))
                    let error = written > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl, written)
                    if written <= 0 && error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE { failed = true }
                    return (written, error)
                }
                if written > 0 {
                    offset += Int(written)
                    continue
                }
                guard error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE else { return false }
                // In slices: when OpenSSL wants to read for a write, the reader thread may take
                // those bytes first, and the write must try again rather than wait on.
                guard wait(for: error, until: ContinuousClock.now + .milliseconds(100)) != .failed else { return false }
            }
            return true
        }
    }

    /// Reads what has arrived, up to `buffer.count` bytes, waiting until `deadline` (nil: for
    /// as long as it takes): the count read, 0 once the connection ended, nil at the deadline.
    public func read(into buffer: UnsafeMutableRawBufferPointer, until deadline: ContinuousClock.Instant? = nil) -> Int? {
        guard buffer.count > 0 else { return 0 }
        while true {
            let (count, error) = session.withLock { failed in
                ERR_clear_error()
                let count = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
                let error = count > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl, count)
                // A clean close (close_notify) may be answered in kind; anything else may not.
                if count <= 0 && ![SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE, SSL_ERROR_ZERO_RETURN].contains(error) { failed = true }
                return (count, error)
            }
            if count > 0 { return Int(count) }
            guard error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE else { return 0 }
            switch wait(for: error, until: deadline) {
            case .ready: continue
            case .timedOut: return nil
            case .failed: return 0
            }
        }
    }

    /// Tells the server this side is done (close_notify), without waiting for its answer;
    /// nothing once the session failed.
    public func close() {
        session.withLock { failed in
            guard !failed else { return }
            ERR_clear_error()
            _ = SSL_shutdown(ssl)
            ERR_clear_error()
        }
    }

    private enum Readiness { case ready, timedOut, failed }

    /// Waits until the socket can do what OpenSSL asked for.
    private func wait(for error: Int32, until deadline: ContinuousClock.Instant?) -> Readiness {
        let events = error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN
        while true {
            var timeout: Int32 = -1
            if let deadline {
                let remaining = deadline - ContinuousClock.now
                guard remaining > .zero else { return .timedOut }
                let (seconds, attoseconds) = remaining.components
                timeout = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            }
            var ready = pollfd(fd: descriptor, events: Int16(events), revents: 0)
            let result = poll(&ready, 1, timeout)
            if result > 0 { return .ready }
            if result == 0 { return .timedOut }
            if errno != EINTR { return .failed }
        }
    }
}
