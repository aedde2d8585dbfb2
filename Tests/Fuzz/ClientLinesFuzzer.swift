import ChatProtocol

/// libFuzzer entry (ops/fuzz.sh lines): the bytes a client may send, through the framer and
/// every parser of the client protocol. A crash, a hang or a broken promise is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClientLines(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var framer = LineFramer(maxLineLength: 1024)
    framer.append(bytes)
    let parser = SessionCommandParser(uid: "111111")
    while let event = framer.next() {
        guard case .line(let line) = event else { continue }
        precondition(line.count <= 1024, "the framer yielded a line over its limit")
        _ = LoginCommand(line: line)
        _ = DataAnswer(line: line)
        _ = ServerReply(line: line)
        _ = PushFirstLine(line: line)
        _ = HistoryRecord.decodeAll(line + [0x0a])
        if case .command(.message(let header)) = parser.parse(line) {
            precondition(MessageHeader(line: header.line) == header, "a parsed header does not read back the same")
        }
    }
    return 0
}
