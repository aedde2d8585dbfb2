/// The exchanges around data the server stores: a file or voice message sent through it, and a
/// stored file or a whole history read back after `server_data_size<N>`. Replies are read past
/// pushes, since a peer may write meanwhile.
extension TestClient {
    /// Sends a `kind` message of `bytes` named `name`, the bytes after the go-ahead; returns the
    /// go-ahead's refusal or the final reply, waiting up to `timeout` seconds for the latter.
    func upload(from: String, to: String, kind: String = "file", name: String, bytes: [UInt8], timeout: Double = 60) throws -> String {
        try sendLine("\(from) to \(to) 202004131702 \(kind) \(bytes.count)\n\(name)")
        let goAhead = try readReply()
        guard goAhead == "ok" else { return goAhead }
        try send(bytes)
        return try readReply(timeout: timeout)
    }

    /// A stored file's bytes; nil when the server offers none.
    func download(me: String, peer: String, name: String) throws -> [UInt8]? {
        try sendLine("\(me) history \(peer) filename \(name)")
        return try takeOffer(timeout: 60)
    }

    /// The pair's whole history as the server sends it; empty when there is none.
    func history(me: String, peer: String) throws -> [UInt8] {
        try sendLine("\(me) history \(peer) all")
        return try takeOffer(timeout: 20) ?? []
    }

    /// Answers `server_data_size<N>` with `ok` and reads the N bytes; nil for any other reply.
    private func takeOffer(timeout: Double) throws -> [UInt8]? {
        let answer = try readReply()
        guard answer.hasPrefix("server_data_size"), let count = Int(answer.dropFirst("server_data_size".count)) else { return nil }
        try sendLine("ok")
        return try read(count: count, timeout: timeout)
    }
}
