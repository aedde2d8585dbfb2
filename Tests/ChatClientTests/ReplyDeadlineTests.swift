@testable import ChatClient
import Foundation
import Testing

/// A server that accepts and then says nothing: the client does not wait for ever.
@Suite struct ReplyDeadlineTests {
    @Test func aServerThatNeverAnswersIsDroppedAfterTheReplyLimit() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(listener, generic, length) == 0 && listen(listener, 1) == 0 && getsockname(listener, generic, &length) == 0
            }
        }
        #expect(bound)
        let lines = FakeServer.Lines()
        let session = try ChatClientSession(server: ServerAddress(host: "127.0.0.1", port: Int(UInt16(bigEndian: address.sin_port))),
                                            downloads: DownloadsFolder(path: NSTemporaryDirectory() + "unused-\(UUID().uuidString)"),
                                            reconnectSeconds: 0, replyLimit: 1) { event in
            for line in event.lines { lines.append(line) }
        }
        let connection = accept(listener, nil, nil)
        defer { close(connection) }
        var script = ["/signup 123456 pw"]
        let outcome = session.run { script.popLast() }
        #expect(lines.all.contains("no answer from the server for 1 s; dropping the connection"), "\(lines.all)")
        #expect(lines.all.contains("connection lost before the server answered the sign-in or sign-up"), "\(lines.all)")
        #expect(outcome == ChatClientSession.Outcome(failedCommands: 1, connectionLost: true))
    }
}
