import ChatProtocol
import Testing

@Suite struct HistoryRecordTests {
    private func header(_ kind: MessageHeader.Kind, from sender: String = "111111", to recipient: String = "222222") -> MessageHeader {
        MessageHeader(sender: sender, recipient: recipient, timestamp: "202004131702", kind: kind)
    }

    @Test func bytesAreHeaderAndBodyEachEndedByANewline() {
        #expect(HistoryRecord(header: header(.text), body: "hello there").bytes
                == Array("111111 to 222222 202004131702 text\nhello there\n".utf8))
        #expect(HistoryRecord(header: header(.file(size: 3)), body: "a.tar (2).gz").bytes
                == Array("111111 to 222222 202004131702 file 3\na.tar (2).gz\n".utf8))
        #expect(HistoryRecord.bytes(headerLine: Array("h".utf8), body: [UInt8]()) == Array("h\n\n".utf8))
    }

    /// The gateway builds a text's record from the header line as received and the content's bytes.
    @Test func bytesFromTheLinesAsReceived() {
        let line = Array("111111 to 222222 202004131702 audio 05".utf8)
        #expect(HistoryRecord.bytes(headerLine: line, body: "202004131702_audio.ogg".utf8)
                == Array("111111 to 222222 202004131702 audio 05\n202004131702_audio.ogg\n".utf8))
    }

    @Test func aHistoryDecodesToItsRecords() throws {
        let records = [
            HistoryRecord(header: header(.text), body: "hi, ünïcödé"),
            HistoryRecord(header: header(.text, from: "222222", to: "111111"), body: ""),
            HistoryRecord(header: header(.audio(size: 10)), body: "202004131702_audio (2).ogg"),
            HistoryRecord(header: header(.file(size: 0)), body: "my file.txt"),
            HistoryRecord(header: header(.text), body: "ends with a carriage return\r"),
        ]
        let bytes = records.flatMap(\.bytes)
        #expect(HistoryRecord.decodeAll(bytes) == records)
        #expect(try #require(HistoryRecord.decodeAll(bytes)).flatMap(\.bytes) == bytes)
        #expect(HistoryRecord.decodeAll([]) == [])
    }

    @Test(arguments: [
        "111111 to 222222 202004131702 text\nno final newline",
        "111111 to 222222 202004131702 text\n",
        "111111 to 222222 202004131702 text\nhi\n111111 to 222222 202004131702 text\n",
        "hello\nworld\n",
        "111111 to 222222 202004131702 file 3\n\n",
        "111111 to 222222 202004131702 file 3\n..\n",
        "111111 to 222222 202004131702 file 3\na/b\n",
        "\n",
    ])
    func malformedHistoriesAreRejected(_ text: String) {
        #expect(HistoryRecord.decodeAll(Array(text.utf8)) == nil, "\(text.debugDescription)")
    }

    @Test func aContentLineThatIsNotUTF8IsRejected() {
        #expect(HistoryRecord(header: header(.text), bodyLine: [0x68, 0xff]) == nil)
        #expect(HistoryRecord(header: header(.text), bodyLine: Array("ok".utf8)) == HistoryRecord(header: header(.text), body: "ok"))
    }
}
