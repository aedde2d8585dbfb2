import ChatProtocol
@testable import ChatClient
import ChatTestSupport
import Foundation
import Testing

/// A scripted server on a loopback socket, and the order of what the client sends it: an
/// offer pushed while a download's answer is awaited must not put the automatic accept
/// where the server expects the download's `ok`.
@Suite struct ExchangeOrderTests {
    /// Reads lines from one accepted connection and writes what the script says.
    final class ScriptedServer: @unchecked Sendable {
        private let listener: LoopbackListener
        private var connection: Int32 = -1
        private var buffer: [UInt8] = []
        var port: Int { listener.port }

        init() throws { listener = try LoopbackListener() }

        deinit { if connection >= 0 { close(connection) } }

        func accept() { connection = listener.accept() }

        func line() -> String? {
            while true {
                if let end = buffer.firstIndex(of: 10) {
                    defer { buffer.removeFirst(end + 1) }
                    return String(decoding: buffer[..<end], as: UTF8.self)
                }
                var descriptor = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
                guard poll(&descriptor, 1, 10_000) == 1 else { return nil }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let count = recv(connection, &chunk, chunk.count, 0)
                guard count > 0 else { return nil }
                buffer += chunk[..<count]
            }
        }

        func write(_ text: String) {
            _ = Array(text.utf8).withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
    }

    @Test func anAutomaticAcceptWaitsForTheDownloadToEnd() throws {
        let server = try ScriptedServer()
        let folder = NSTemporaryDirectory() + "exchange-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var options = PeerOptions()
        options.acceptAutomatically = true
        let lines = FakeServer.Lines()
        let session = try ChatClientSession(server: ServerAddress(host: "127.0.0.1", port: server.port), downloads: DownloadsFolder(path: folder),
                                            peerOptions: options, reconnectSeconds: 0) { event in
            for line in event.lines { lines.append(line) }
        }
        server.accept()
        let token = String(repeating: "c", count: 32), sha = String(repeating: "0", count: 64)
        let received = FakeServer.Lines()
        let serverThread = Thread {
            guard let signIn = server.line() else { return }
            received.append(signIn)
            server.write("signin successfully\n")
            // Signed in, the client asks for a resumption ticket first.
            guard server.line() == "111111 ticket" else { return }
            server.write("ticket \(String(repeating: "ab", count: 16))\n")
            guard let request = server.line() else { return }
            received.append(request)
            // The offer is pushed before the download's answer: the client has the request out.
            server.write("333333 to 111111 p2p offer \(token) 5 \(sha) photo.jpg\nserver_data_size3\n")
            guard let answer = server.line() else { return }
            received.append(answer)
            server.write("abc")
            guard let accept = server.line() else { return }
            received.append(accept)
            server.write("No such transfer\n")
        }
        serverThread.start()
        var script = ["/get 222222 f.bin", "/signin 111111 pw"]
        _ = session.run { script.popLast() }
        serverThread.cancel()
        let sent = received.all
        #expect(sent.count == 4, "\(sent)")
        #expect(sent.dropFirst(2).first == "ok", "the download's answer comes before anything else: \(sent)")
        #expect(sent.last?.hasPrefix("111111 p2p accept \(token) ") == true, "\(sent)")
        #expect(lines.all.contains { $0.hasPrefix("saved ") && $0.hasSuffix("(3 bytes)") }, "\(lines.all)")
        #expect((try? String(contentsOfFile: folder + "/f.bin", encoding: .utf8)) == "abc")
    }
}
