import CLibSSL

/// What a TLS client trusts and offers, shared by all its connections: TLS 1.2 at the least,
/// for TLS 1.2 only forward-secret AEAD suites (as the gateway serves), the server's
/// certificate always verified.
///
/// Unchecked: the `SSL_CTX` is only read once made; OpenSSL makes that safe across threads.
public final class TLSClientContext: @unchecked Sendable {
    let context: OpaquePointer

    /// Trusting the certificates in `caFile` (PEM; a self-signed server certificate, say), or
    /// the system's certificate store when nil.
    public init(caFile: String? = nil) throws {
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw TLSFailure.fromQueue("cannot set up TLS") }
        self.context = context
        guard chat_ssl_ctx_set_min_tls12(context) == 1,
              SSL_CTX_set_cipher_list(context, "ECDHE+AESGCM:ECDHE+CHACHA20") == 1 else {
            throw TLSFailure.fromQueue("cannot set up TLS")
        }
        // A blocked write is retried with the same bytes, which may have moved in memory.
        _ = chat_ssl_ctx_allow_moving_write_buffer(context)
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        if let caFile {
            guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                throw TLSFailure.fromQueue("cannot read the certificates to trust from \(caFile)")
            }
        } else if SSL_CTX_set_default_verify_paths(context) != 1 {
            throw TLSFailure.fromQueue("cannot read the system's trusted certificates")
        }
    }

    deinit { SSL_CTX_free(context) }
}
