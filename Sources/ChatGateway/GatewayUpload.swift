import ChatBus
import ChatProtocol
import NIOCore

/// An upload under way on one connection: raw bytes from the client, passed on to the
/// storage worker in chunks, with at most `window` bytes unconfirmed by storage. Past that the
/// connection stops reading, so memory stays bounded whatever the file size.
final class GatewayUpload {
    static let chunkSize = 256 * 1024
    static let window = 4 * chunkSize

    let id: UInt64
    let pair: PairKey
    let sender: String
    let recipient: String
    /// Where the final `ok` / `Target user offline` goes in the connection's reply order.
    let finalSlot: ReplySequencer.Slot
    /// Bytes the client still has to send.
    var toReceive: Int64
    /// Received, not yet sent to storage.
    var pending: [UInt8] = []
    /// Sent to storage, not yet confirmed.
    var inFlight = 0
    /// Storage failed: the rest of the bytes are read and dropped, then `Service unavailable`.
    var failed = false
    var finishing = false
    var receivedSinceIdleCheck = false
    var idleCheck: RepeatedTask?

    init(id: UInt64, pair: PairKey, sender: String, recipient: String, finalSlot: ReplySequencer.Slot, size: Int64) {
        self.id = id
        self.pair = pair
        self.sender = sender
        self.recipient = recipient
        self.finalSlot = finalSlot
        toReceive = size
    }
}

/// A download under way: file bytes from storage, written to the client as fast as it reads.
final class GatewayDownload {
    static let chunkSize = 1024 * 1024
    static let maxChunksInFlight = 4
    /// The connection's write buffer bounds while a chunked download runs, and after it
    /// (SwiftNIO's default).
    static let waterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 2 << 20, high: 4 << 20)
    static let defaultWaterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 32 << 10, high: 64 << 10)

    let id: UInt64
    let pair: PairKey
    let size: Int64
    /// Where storage keeps the file; used when this gateway can open it (same machine).
    let storedPath: String
    var requested: Int64 = 0
    var written: Int64 = 0
    var chunksInFlight = 0
    /// Bytes the connection still had to send at the last stall check.
    var unsentAtLastCheck: Int?
    var stallCheck: RepeatedTask?

    init(id: UInt64, pair: PairKey, size: Int64, storedPath: String) {
        self.id = id
        self.pair = pair
        self.size = size
        self.storedPath = storedPath
    }
}
