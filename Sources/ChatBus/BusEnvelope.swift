/// The one format every message between processes travels in.
///
/// An envelope, all integers big-endian:
/// `version: u8 | flags: u8 | kind: u16 | requestId: u64 | body...`
///
/// A ZeroMQ message carries a batch of envelopes, each behind its length:
/// `(length: u32 | envelope)+`. Everything a process has for one peer at the end of one loop
/// wake-up goes as one batch, so a busy bus pays ZeroMQ's and the kernel's per-message costs
/// once per batch rather than once per envelope. A ROUTER socket adds the peer's identity as a
/// frame in front; nothing else is framed.
public struct BusEnvelope: Equatable, Sendable {
    public static let currentVersion: UInt8 = 1

    public struct Flags: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// Set on the answer to a request, so it is matched by `requestId` and never handled as a request.
        public static let reply = Flags(rawValue: 1)
    }

    public var flags: Flags
    /// Chosen by the requester; 0 for one-way messages that expect no answer.
    public var requestId: UInt64
    public var message: BusMessage

    public init(requestId: UInt64, message: BusMessage, flags: Flags = []) {
        self.requestId = requestId
        self.message = message
        self.flags = flags
    }

    public var isReply: Bool { flags.contains(.reply) }

    public func encoded() -> [UInt8] {
        var writer = BusWriter()
        encode(into: &writer)
        return writer.bytes
    }

    func encode(into writer: inout BusWriter) {
        writer.write(Self.currentVersion)
        writer.write(flags.rawValue)
        writer.write(message.kind.rawValue)
        writer.write(requestId)
        message.encodeBody(into: &writer)
    }

    /// Appends this envelope to a batch, behind its length.
    public func append(toBatch writer: inout BusWriter) {
        let lengthOffset = writer.count
        writer.write(UInt32(0))
        encode(into: &writer)
        writer.patch(UInt32(writer.count - lengthOffset - 4), at: lengthOffset)
    }

    /// Decodes a batch's envelopes in order, handing each to `body`, or why it could not be
    /// decoded to `onUndecodable`. Returns false, having handed nothing, when the lengths do not
    /// add up. The whole batch is read in place: no envelope is copied out of it first.
    @discardableResult
    public static func decode(batch bytes: [UInt8], onUndecodable: (any Error) -> Void = { _ in },
                              _ body: (BusEnvelope) -> Void) -> Bool {
        bytes.withUnsafeBytes { batch in
            guard let ranges = envelopeRanges(in: batch) else { return false }
            for range in ranges {
                var reader = BusReader(UnsafeRawBufferPointer(rebasing: batch[range]))
                let envelope: BusEnvelope
                do {
                    envelope = try BusEnvelope(reading: &reader)
                } catch {
                    onUndecodable(error)
                    continue
                }
                body(envelope)
            }
            return true
        }
    }

    /// Where each envelope of a batch lies; nil when the lengths do not add up.
    private static func envelopeRanges(in batch: UnsafeRawBufferPointer) -> [Range<Int>]? {
        var ranges: [Range<Int>] = []
        var offset = 0
        while offset < batch.count {
            guard batch.count - offset >= 4 else { return nil }
            let length = Int(UInt32(bigEndian: batch.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            offset += 4
            guard length <= batch.count - offset else { return nil }
            ranges.append(offset..<offset + length)
            offset += length
        }
        return ranges
    }

    /// One envelope on its own, as `encoded()` made it.
    public init(decoding bytes: [UInt8]) throws {
        self = try bytes.withUnsafeBytes { buffer in
            var reader = BusReader(buffer)
            return try BusEnvelope(reading: &reader)
        }
    }

    private init(reading reader: inout BusReader) throws {
        let version: UInt8 = try reader.read()
        guard version == Self.currentVersion else { throw BusDecodingError.unsupportedVersion(version) }
        let flags = Flags(rawValue: try reader.read())
        let rawKind: UInt16 = try reader.read()
        guard let kind = BusMessage.Kind(rawValue: rawKind) else { throw BusDecodingError.unknownKind(rawKind) }
        let requestId: UInt64 = try reader.read()
        let message = try BusMessage(kind: kind, body: &reader)
        guard reader.isAtEnd else { throw BusDecodingError.trailingBytes(reader.remaining) }
        self.init(requestId: requestId, message: message, flags: flags)
    }
}

public enum BusDecodingError: Error, Equatable {
    case unsupportedVersion(UInt8)
    case unknownKind(UInt16)
    case truncated
    case trailingBytes(Int)
    case badValue(String)
}
