#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits a byte stream into protocol lines.
///
/// A line ends with `\n`; a `\r` right before it is dropped too. A line longer than
/// `maxLineLength` bytes (not counting its ending) yields `.tooLong` once, as soon as that is
/// certain, and the rest of it up to its `\n` is discarded.
public struct LineFramer: Sendable {
    public enum Event: Equatable, Sendable {
        case line([UInt8])
        case tooLong
    }

    public static let protocolMaxLineLength = 65_536

    public let maxLineLength: Int
    private var buffer: [UInt8] = []
    /// Bytes before `start` are consumed; compacted lazily so many short lines cost O(n).
    private var start = 0
    /// Where the search for `\n` resumes, so each byte is scanned once.
    private var scanned = 0
    private var discarding = false

    public init(maxLineLength: Int = LineFramer.protocolMaxLineLength) {
        self.maxLineLength = maxLineLength
    }

    /// True while the last bytes received are part of a line whose end has not arrived.
    public var hasPartialLine: Bool { (start < buffer.count && buffer.last != UInt8(ascii: "\n")) || discarding }

    /// Bytes received and not yet taken as lines or raw data.
    public var bufferedByteCount: Int { buffer.count - start }

    /// How many line ends have arrived so far: progress, even while lines wait to be read.
    public private(set) var lineEndsReceived = 0

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
            scanned = 0
        }
        let before = buffer.count
        buffer.append(contentsOf: bytes)
        if newline(from: before) != nil { lineEndsReceived &+= 1 }
    }

    /// The index of the first `\n` at or after `offset` (memchr: this runs over every byte read).
    private func newline(from offset: Int) -> Int? {
        buffer.withUnsafeBufferPointer { bytes in
            guard offset < bytes.count, let base = bytes.baseAddress,
                  let found = memchr(base + offset, Int32(UInt8(ascii: "\n")), bytes.count - offset) else { return nil }
            return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// The next complete event, or nil until more bytes arrive.
    public mutating func next() -> Event? {
        while true {
            guard let end = newline(from: max(scanned, start)) else {
                return waitForMore()
            }
            var lineEnd = end
            let lineStart = start
            start = end + 1
            scanned = start
            if discarding {
                discarding = false
                continue
            }
            if lineEnd > lineStart && buffer[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            if lineEnd - lineStart > maxLineLength { return .tooLong }
            return .line(Array(buffer[lineStart..<lineEnd]))
        }
    }

    private mutating func waitForMore() -> Event? {
        scanned = buffer.count
        if discarding {
            compact(droppingPending: true)
            return nil
        }
        // One more byte may still be the `\r` of a `\r\n` ending.
        if buffer.count - start > maxLineLength + 1 {
            discarding = true
            compact(droppingPending: true)
            return .tooLong
        }
        if start > 65_536 && start * 2 > buffer.count { compact(droppingPending: false) }
        return nil
    }

    private mutating func compact(droppingPending: Bool) {
        if droppingPending {
            buffer.removeAll(keepingCapacity: true)
        } else {
            buffer.removeFirst(start)
        }
        start = 0
        scanned = buffer.count
    }

    /// Takes up to `count` bytes that follow the last line as raw data (uploads).
    public mutating func takeRaw(upTo count: Int) -> [UInt8] {
        let end = start + min(count, buffer.count - start)
        let taken = Array(buffer[start..<end])
        start = end
        scanned = max(scanned, start)
        return taken
    }
}
