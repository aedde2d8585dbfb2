@testable import ChatClient
import ChatTestSupport
import Foundation
import Testing

/// A server that accepts and then says nothing: the client does not wait for ever.
@Suite struct ReplyDeadlineTests {
    @Test func aServerThatNeverAnswersIsDroppedAfterTheReplyLimit() throws {
        let listener = try LoopbackListener()
        let lines = FakeServer.Lines()
        let session = try ChatClientSession(server: ServerAddress(host: "127.0.0.1", port: listener.port),
                                            downloads: DownloadsFolder(path: NSTemporaryDirectory() + "unused-\(UUID().uuidString)"),
                                            reconnectSeconds: 0, replyLimit: 1) { event in
            for line in event.lines { lines.append(line) }
        }
        let connection = listener.accept()
        defer { close(connection) }
        var script = ["/signup 123456 pw"]
        let outcome = session.run { script.popLast() }
        #expect(lines.all.contains("no answer from the server for 1 s; dropping the connection"), "\(lines.all)")
        #expect(lines.all.contains("connection lost before the server answered the sign-in or sign-up"), "\(lines.all)")
        #expect(outcome == ChatClientSession.Outcome(failedCommands: 1, connectionLost: true))
    }
}
