import ChatRuntime
import Logging
import NIOCore
import NIOSSL
import Synchronization

/// The TLS port's certificate and key (`gateway.tls_certificate`, `gateway.tls_private_key`,
/// PEM files): read at start and again on each reload; each new connection takes the newest,
/// those open keep theirs. TLS 1.2 at least; for 1.2, only forward-secret AEAD suites (ECDHE
/// with AES-GCM or ChaCha20-Poly1305: swift-nio-ssl's defaults also allow CBC and RSA key
/// exchange); TLS 1.3's suites are all of that kind.
final class ClientTLS: Sendable {
    private let context: Mutex<NIOSSLContext>
    let handshakeFailures: TLSHandshakeFailures

    init(certificate: String, privateKey: String, logger: Logger) throws {
        context = Mutex(try Self.context(certificate: certificate, privateKey: privateKey))
        handshakeFailures = TLSHandshakeFailures(logger: logger)
    }

    /// Whether the pair can be served: throws why not.
    static func check(certificate: String, privateKey: String) throws {
        _ = try context(certificate: certificate, privateKey: privateKey)
    }

    /// Reads the files again; on failure the context in force stays, and the error is thrown.
    func reload(certificate: String, privateKey: String) throws {
        let newer = try Self.context(certificate: certificate, privateKey: privateKey)
        context.withLock { $0 = newer }
    }

    /// The handlers that open TLS for one new connection, and watch its handshake.
    func serverHandlers() -> [ChannelHandler] {
        [NIOSSLServerHandler(context: context.withLock { $0 }), handshakeFailures.watch()]
    }

    private static func context(certificate: String, privateKey: String) throws -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificate)
            key = try NIOSSLPrivateKey(file: privateKey, format: .pem)
        } catch {
            throw ConfigurationError("gateway.tls_certificate \(certificate) / tls_private_key \(privateKey): \(error)")
        }
        guard !chain.isEmpty else { throw ConfigurationError("gateway.tls_certificate \(certificate) holds no certificate") }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                                      privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.cipherSuites = "ECDHE+AESGCM:ECDHE+CHACHA20"
        // A connection the gateway closes (a slow reader, the output budget) waits at most
        // this long for the client's close_notify, not swift-nio-ssl's 5 s.
        configuration.shutdownTimeout = .seconds(1)
        return try NIOSSLContext(configuration: configuration)
    }
}
