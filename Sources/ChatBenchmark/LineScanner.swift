import Foundation
import NIOCore

/// Splits what a connection reads into lines without allocating per line: the load generator
/// and the minimal relay must cost far less per message than the servers they measure.
struct LineScanner {
    /// The start of a line that has not ended yet, kept across reads.
    private var carry: [UInt8] = []

    /// Calls `body` with each complete line (without `\r\n` or `\n`), in order.
    mutating func scan(_ buffer: ByteBuffer, _ body: (UnsafeRawBufferPointer) -> Void) {
        buffer.withUnsafeReadableBytes { bytes in
            var start = 0
            while start < bytes.count {
                guard let end = Self.index(of: 10, in: bytes, from: start) else {
                    carry.append(contentsOf: bytes[start...])
                    return
                }
                if carry.isEmpty {
                    body(Self.trimmed(UnsafeRawBufferPointer(rebasing: bytes[start..<end])))
                } else {
                    carry.append(contentsOf: bytes[start..<end])
                    carry.withUnsafeBytes { body(Self.trimmed($0)) }
                    carry.removeAll(keepingCapacity: true)
                }
                start = end + 1
            }
        }
    }

    private static func index(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard let base = bytes.baseAddress, start < bytes.count,
              let found = memchr(base + start, Int32(byte), bytes.count - start) else { return nil }
        return UnsafeRawPointer(found) - base
    }

    private static func trimmed(_ line: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        line.last == 13 ? UnsafeRawBufferPointer(rebasing: line.dropLast()) : line
    }

    /// The send time written as `t=<digits>` at `offset`, if any.
    static func sendTime(in line: UnsafeRawBufferPointer, at offset: Int) -> UInt64? {
        guard line.count > offset + 2, line[offset] == UInt8(ascii: "t"), line[offset + 1] == UInt8(ascii: "=") else { return nil }
        var value: UInt64 = 0
        var index = offset + 2
        while index < line.count, line[index] >= 48, line[index] <= 57 {
            value = value &* 10 &+ UInt64(line[index] - 48)
            index += 1
        }
        return value
    }

    /// Where `needle` first occurs in `line`.
    static func find(_ needle: StaticString, in line: UnsafeRawBufferPointer) -> Int? {
        let pattern = UnsafeRawBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount)
        guard line.count >= pattern.count, let first = pattern.first else { return nil }
        var start = 0
        while let candidate = index(of: first, in: line, from: start), candidate + pattern.count <= line.count {
            if memcmp(line.baseAddress! + candidate, pattern.baseAddress!, pattern.count) == 0 { return candidate }
            start = candidate + 1
        }
        return nil
    }
}

/// Writes `count` messages `prefix` + body + `suffix`, the body `t=<now>;` padded to
/// `bodySize` bytes: the send time the receiver reads back. The messages of one batch share
/// their send time, so the first is formatted and the rest are copies of its bytes.
func writeTimestampedMessages(_ count: Int, into buffer: inout ByteBuffer, prefix: [UInt8], bodySize: Int,
                              suffix: StaticString, now: UInt64) {
    guard count > 0 else { return }
    let first = buffer.writerIndex
    buffer.writeBytes(prefix)
    let bodyStart = buffer.writerIndex
    buffer.writeStaticString("t=")
    var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                 UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var written = 0
    var value = now
    withUnsafeMutableBytes(of: &digits) { raw in
        repeat {
            raw[19 - written] = UInt8(48 + value % 10)
            value /= 10
            written += 1
        } while value > 0
        buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[(20 - written)...]))
    }
    buffer.writeInteger(UInt8(ascii: ";"))
    let padding = bodySize - (buffer.writerIndex - bodyStart)
    if padding > 0 { buffer.writeRepeatingByte(UInt8(ascii: "x"), count: padding) }
    buffer.writeStaticString(suffix)
    guard count > 1, let message = buffer.getBytes(at: first, length: buffer.writerIndex - first) else { return }
    for _ in 1..<count { buffer.writeBytes(message) }
}

/// Asks the kernel to acknowledge at once rather than delay the ACK: Linux drops back to
/// delayed ACKs by itself, so a receiving socket re-arms this after every read, for every
/// target, and Nagle on a server without TCP_NODELAY cannot stall the run.
func rearmQuickAck(_ context: ChannelHandlerContext) {
    try? context.channel.syncOptions?.setOption(.socket(IPPROTO_TCP, TCP_QUICKACK), value: 1)
}

extension EventLoopPromise where Value == Void {
    /// A sign-in that never completes fails the run instead of hanging it.
    func failAfterSignInTimeout(on eventLoop: EventLoop) {
        let promise = self
        eventLoop.scheduleTask(in: .seconds(120)) { promise.fail(SignInTimedOut()) }
    }
}

struct SignInTimedOut: Error {}
