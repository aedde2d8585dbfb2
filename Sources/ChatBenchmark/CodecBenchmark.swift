import ChatBus
import Foundation

/// The bus codec alone, on the three envelopes a text between two users of one gateway
/// causes (gateway -> storage `storeAndDeliver`, storage -> router `deliverStored`, router ->
/// gateway the answer with the push, `deliveredPush`): nanoseconds to append each to a batch
/// and to decode it from one.
/// No sockets, no threads: what every process pays per text before doing any work.
struct CodecBenchmark {
    struct Figure {
        let name: String
        let encodeNanos: Double
        let decodeNanos: Double
    }

    var envelopesPerBatch = 256
    var batches = 4_000

    func run() throws -> [Figure] {
        let record = Array("600001 to 600002 send text 12345678901234567890123456789012345678901234567890123456789012345\n".utf8)
        let pair = PairKey("600001", "600002")
        let samples: [(String, BusMessage, BusEnvelope.Flags)] = [
            ("storeAndDeliver", .storeAndDeliver(pair: pair, record: record, to: "600002", gatewayId: "gw-abcdefghijkl"), []),
            ("deliverStored", .deliverStored(to: "600002", record: record, gatewayId: "gw-abcdefghijkl", requestId: 77), []),
            ("deliveredPush", .deliveredPush(connection: 42, bytes: record), .reply),
        ]
        return try samples.map { name, message, flags in
            let envelope = BusEnvelope(requestId: 1_234_567, message: message, flags: flags)
            var writer = BusWriter()
            var started = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<batches {
                writer.removeAll()
                for _ in 0..<envelopesPerBatch { envelope.append(toBatch: &writer) }
            }
            let encode = DispatchTime.now().uptimeNanoseconds - started
            let batch = writer.bytes
            var decoded = 0
            started = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<batches {
                BusEnvelope.decode(batch: batch) { if $0.requestId == envelope.requestId { decoded += 1 } }
            }
            let decode = DispatchTime.now().uptimeNanoseconds - started
            guard decoded == batches * envelopesPerBatch else { throw BusDecodingError.badValue("decoded \(decoded)") }
            let count = Double(batches * envelopesPerBatch)
            return Figure(name: name, encodeNanos: Double(encode) / count, decodeNanos: Double(decode) / count)
        }
    }
}
