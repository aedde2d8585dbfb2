import CLibSSL

/// Why a TLS connection could not be made or went on, in OpenSSL's words where it has some.
public struct TLSFailure: Error, CustomStringConvertible {
    public let description: String
    /// The server answered in TLS but its certificate was not trusted, or named another host.
    public let isCertificateRefused: Bool

    init(_ description: String, isCertificateRefused: Bool = false) {
        self.description = description
        self.isCertificateRefused = isCertificateRefused
    }

    /// `what`, followed by the first error OpenSSL queued on this thread, if any; the queue
    /// is emptied so the next failure does not report this one's cause.
    static func fromQueue(_ what: String) -> TLSFailure {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else { return TLSFailure(what) }
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        return TLSFailure("\(what): \(String(decoding: text.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self))")
    }
}
