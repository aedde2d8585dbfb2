import ChatProtocol
import Testing

@Suite struct LineFramerTests {
    private func events(_ chunks: [[UInt8]], max: Int = LineFramer.protocolMaxLineLength) -> [LineFramer.Event] {
        var framer = LineFramer(maxLineLength: max)
        var out: [LineFramer.Event] = []
        for chunk in chunks {
            framer.append(chunk)
            while let event = framer.next() { out.append(event) }
        }
        return out
    }

    private func line(_ text: String) -> LineFramer.Event { .line(Array(text.utf8)) }

    @Test func everySplitGivesTheSameLines() {
        let input = Array("signin 123456 pw\r\nhello\n\nlast one\r\n".utf8)
        let expected = [line("signin 123456 pw"), line("hello"), line(""), line("last one")]
        #expect(events([input]) == expected)
        #expect(events(input.map { [$0] }) == expected)
        for split in 0...input.count {
            #expect(events([Array(input[..<split]), Array(input[split...])]) == expected, "split at \(split)")
        }
    }

    @Test func aLoneCarriageReturnInsideALineIsKept() {
        #expect(events([Array("a\rb\n".utf8)]) == [line("a\rb")])
    }

    @Test func exactlyTheLimitIsAccepted() {
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 65_536)
        #expect(events([body + [10]]) == [.line(body)])
        #expect(events([body + [13, 10]]) == [.line(body)])
        #expect(events(body.map { [$0] } + [[13], [10]]) == [.line(body)])
    }

    @Test func oneOverTheLimitIsRefusedOnceAndTheNextLineIsFine() {
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 65_537)
        #expect(events([body + Array("\nnext\n".utf8)]) == [.tooLong, line("next")])
        // Arriving in pieces, it is refused as soon as it is certain, and only once.
        let pieces = stride(from: 0, to: 200_000, by: 1000).map { _ in [UInt8](repeating: 120, count: 1000) }
        #expect(events(pieces + [Array("\nnext\n".utf8)]) == [.tooLong, line("next")])
        #expect(events([body + [13, 10], Array("ok\n".utf8)]) == [.tooLong, line("ok")])
    }

    @Test func rawBytesFollowALine() {
        var framer = LineFramer()
        framer.append(Array("header\n".utf8) + [0, 10, 13, 255] + Array("tail\n".utf8))
        #expect(framer.next() == line("header"))
        #expect(framer.takeRaw(upTo: 4) == [0, 10, 13, 255])
        #expect(framer.next() == line("tail"))
        #expect(!framer.hasPartialLine)
    }

    @Test func takingAllRawBytesDoesNotOverflow() {
        var framer = LineFramer()
        framer.append(Array("a\nrest".utf8))
        #expect(framer.next() == line("a"))
        #expect(framer.takeRaw(upTo: Int.max) == Array("rest".utf8))
        #expect(framer.takeRaw(upTo: Int.max) == [])
    }

    @Test func completeLinesWaitingToBeReadAreNotAPartialLine() {
        var framer = LineFramer()
        framer.append(Array("one\ntwo\n".utf8))
        #expect(!framer.hasPartialLine)
        #expect(framer.bufferedByteCount == 8)
        framer.append(Array("thr".utf8))
        #expect(framer.hasPartialLine)
        #expect(framer.lineEndsReceived == 1)
    }

    @Test func partialLineIsReported() {
        var framer = LineFramer()
        framer.append(Array("half".utf8))
        #expect(framer.next() == nil)
        #expect(framer.hasPartialLine)
        framer.append([10])
        #expect(framer.next() == line("half"))
        #expect(!framer.hasPartialLine)
    }

    @Test func shuffledChunkSizesNeverChangeTheResult() {
        var generator = SystemRandomNumberGenerator()
        var input: [UInt8] = []
        var expected: [LineFramer.Event] = []
        for index in 0..<300 {
            let length = index % 7 == 0 ? 70 : Int.random(in: 0...40, using: &generator)
            let body = (0..<length).map { _ in UInt8.random(in: 32...126, using: &generator) }
            input += body + (index % 3 == 0 ? [13, 10] : [10])
            expected.append(length > 64 ? .tooLong : .line(body))
        }
        for _ in 0..<20 {
            var chunks: [[UInt8]] = []
            var offset = 0
            while offset < input.count {
                let size = Int.random(in: 1...100, using: &generator)
                chunks.append(Array(input[offset..<min(input.count, offset + size)]))
                offset += size
            }
            #expect(events(chunks, max: 64) == expected)
        }
    }
}
