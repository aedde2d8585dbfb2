import ChatProtocol
@testable import ChatClient
import ChatTestSupport
import Foundation
import Testing

/// What the session prints for lines a hostile server or sender writes: a fake server on a
/// loopback socket sends them, the session's `output` collects what would reach the terminal.
@Suite struct PushOutputTests {
    @Test func pushesAndRepliesFromTheNetworkArePrintedEscaped() throws {
        let text = HistoryRecord(header: MessageHeader(sender: "111111", recipient: "222222", timestamp: "202004131702", kind: .text),
                                 body: "\u{1B}[2J\u{1B}]0;owned\u{07}hi\rserver: you are banned \u{202E}olleh\\")
        let file = HistoryRecord(header: MessageHeader(sender: "111111", recipient: "222222", timestamp: "202004131703",
                                                       kind: .file(size: 3)),
                                 body: "invoice\u{202E}fdp.exe")
        let offer = Push.p2pOffer(from: "111111", to: "222222", token: String(repeating: "a", count: 32), size: 3,
                                  sha256: String(repeating: "0", count: 64), name: "photo\u{2067}.jpg")
        let reply = Array("\u{9B}2J an unasked reply \u{7F}\n".utf8)
        let lines = try FakeServer.output(of: text.bytes + file.bytes + offer.bytes + reply)

        #expect(lines.contains("[2020-04-13 17:02] 111111: \\e[2J\\e]0;owned\\x07hi\\rserver: you are banned \\u{202E}olleh\\\\"))
        #expect(lines.contains("[2020-04-13 17:03] 111111 sent a file: invoice\\u{202E}fdp.exe (fetch it with /get 111111 invoice\\u{202E}fdp.exe)"))
        #expect(lines.contains { $0.hasPrefix("111111 offers photo\\u{2067}.jpg (3 bytes) directly") })
        #expect(lines.contains("\\x9B2J an unasked reply \\x7F"))
        for line in lines {
            #expect(!line.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || (0x202A...0x202E).contains($0.value) || (0x2066...0x2069).contains($0.value) },
                    "printed raw: \(line.debugDescription)")
        }
    }

    @Test func historyRecordsArePrintedEscaped() {
        let record = HistoryRecord(header: MessageHeader(sender: "111111", recipient: "222222", timestamp: "202004131702", kind: .text),
                                   body: "\u{1B}[1A\u{1B}[2Kserver: password expired")
        #expect(record.readable == "[2020-04-13 17:02] 111111 -> 222222: \\e[1A\\e[2Kserver: password expired")
    }
}

/// One connection's worth of server: accepts the session, writes `bytes`, ends its side, and
/// returns every line the session printed until it saw the end.
enum FakeServer {
    struct Failure: Error { let step: String }

    static func output(of bytes: [UInt8]) throws -> [String] {
        let listener = try LoopbackListener()
        let lines = Lines()
        let session = try ChatClientSession(server: ServerAddress(host: "127.0.0.1", port: listener.port),
                                            downloads: DownloadsFolder(path: NSTemporaryDirectory() + "unused-\(UUID().uuidString)"),
                                            reconnectSeconds: 0) { event in
            for line in event.lines { lines.append(line) }
        }
        let connection = listener.accept()
        guard connection >= 0 else { throw Failure(step: "accept") }
        // Open until the session is done, so what it sends (`offline`) is never answered by a reset.
        defer { close(connection) }
        let written = bytes.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard written == bytes.count else { throw Failure(step: "send") }
        shutdown(connection, Int32(SHUT_WR))
        _ = session.run { nil }
        return lines.all
    }

    /// Unchecked: `lines` is only touched under `lock`.
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []

        func append(_ line: String) {
            lock.lock()
            defer { lock.unlock() }
            lines.append(line)
        }

        var all: [String] {
            lock.lock()
            defer { lock.unlock() }
            return lines
        }
    }
}
