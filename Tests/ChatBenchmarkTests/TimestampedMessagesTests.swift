import NIOCore
import Testing
@testable import ChatBenchmark

@Suite struct TimestampedMessagesTests {
    @Test(arguments: [1, 2, 32])
    func everyMessageOfABatchCarriesTheSendTime(_ count: Int) {
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        let header = Array("500001 to 500002 202004131702 text\n".utf8)
        writeTimestampedMessages(count, into: &buffer, prefix: header, bodySize: 64, suffix: "\n", now: 1_234_567_890_123)
        #expect(buffer.readableBytes == count * (header.count + 64 + 1))

        var scanner = LineScanner()
        var lines: [[UInt8]] = []
        scanner.scan(buffer) { lines.append(Array($0)) }
        #expect(lines.count == 2 * count)
        for (index, line) in lines.enumerated() {
            if index % 2 == 0 {
                #expect(line == Array(header.dropLast()))
            } else {
                #expect(line.count == 64)
                #expect(line.withUnsafeBytes { LineScanner.sendTime(in: $0, at: 0) } == 1_234_567_890_123)
            }
        }
    }

    @Test func noMessagesWriteNothing() {
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        writeTimestampedMessages(0, into: &buffer, prefix: Array("PRIVMSG b :".utf8), bodySize: 64, suffix: "\r\n", now: 7)
        #expect(buffer.readableBytes == 0)
    }

    @Test func aLineSplitAcrossReadsIsWholeOnceItEnds() {
        var scanner = LineScanner()
        var lines: [String] = []
        for part in [":a PRIVMSG b :t=4", "2;xx\r\n:a PRIVMSG", " b :t=5;\r\n"] {
            scanner.scan(ByteBufferAllocator().buffer(string: part)) { lines.append(String(decoding: $0, as: UTF8.self)) }
        }
        #expect(lines == [":a PRIVMSG b :t=42;xx", ":a PRIVMSG b :t=5;"])
    }
}
