import ChatProtocol
import ChatTestSupport
import Testing

/// Bytes from anyone: every parser of the protocol takes random and protocol-like input
/// without crashing, and the framer keeps its promises about what it yields.
@Suite struct RandomInputTests {
    @Test(arguments: [1, 2, 3] as [UInt64])
    func parsersTakeAnything(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let parser = SessionCommandParser(uid: "111111")
        for _ in 0..<20_000 {
            let line = random.protocolishBytes()
            _ = LoginCommand(line: line)
            _ = parser.parse(line)
            _ = MessageHeader(line: line)
            _ = ServerReply(line: line)
            _ = PushFirstLine(line: line)
            _ = HistoryRecord.decodeAll(line + [0x0a])
            _ = FileNames.isValidFileName(line)
            if case .command(.message(let header)) = parser.parse(line) {
                // A header the parser accepts is one the codec reads back the same.
                #expect(MessageHeader(line: header.line) == header, "seed \(seed): \(line)")
            }
        }
    }

    @Test(arguments: [4, 5, 6] as [UInt64])
    func theFramerYieldsOnlyWholeBoundedLines(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var framer = LineFramer(maxLineLength: 64)
        var sent: [UInt8] = []
        var rebuilt: [UInt8] = []
        for _ in 0..<5_000 {
            var chunk = random.protocolishBytes(maxWords: 4)
            if Int.random(in: 0..<3, using: &random) == 0 { chunk.append(0x0a) }
            if Int.random(in: 0..<50, using: &random) == 0 { chunk += [UInt8](repeating: 0x78, count: 100) }
            sent += chunk
            framer.append(chunk)
            while let event = framer.next() {
                switch event {
                case .line(let line):
                    #expect(line.count <= 64 && !line.contains(0x0a), "seed \(seed)")
                    rebuilt += line
                case .tooLong:
                    break
                }
            }
            // All that waits is one unfinished line, never more than the limit and its `\r`.
            #expect(framer.bufferedByteCount <= 64 + 1, "seed \(seed): \(framer.bufferedByteCount) bytes held")
        }
        // Never more bytes out than in.
        #expect(rebuilt.count <= sent.count)
    }
}
