import ChatBus

/// libFuzzer entry (ops/fuzz.sh bus): bytes arriving on a worker's socket, through the batch
/// and envelope codec and the field checks. Whatever decodes must encode back to itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBusBatches(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    BusEnvelope.decode(batch: bytes) { envelope in
        _ = envelope.message.fieldProblem
        precondition((try? BusEnvelope(decoding: envelope.encoded())) == envelope, "a decoded envelope does not round-trip")
    }
    if let envelope = try? BusEnvelope(decoding: bytes) {
        _ = envelope.message.fieldProblem
        precondition((try? BusEnvelope(decoding: envelope.encoded())) == envelope, "a decoded envelope does not round-trip")
    }
    return 0
}
