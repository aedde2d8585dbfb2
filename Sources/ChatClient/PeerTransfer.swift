import ChatCrypto
import ChatProtocol
import Foundation

/// One file sent or received over a peer-to-peer link: the sender sends `<name>\n` then the
/// bytes; the receiver checks the size and SHA-256 announced in the offer, keeps the file in its
/// downloads folder, and answers `ok` or `bad` so the sender knows.
enum PeerTransfer {
    struct Outcome {
        let bytes: Int64
        let seconds: Double
        let detail: String

        var rate: String { String(format: "%.1f MiB/s", Double(bytes) / 1_048_576 / max(seconds, 0.000_001)) }
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    static func send(_ path: String, name: String, size: Int64, over link: ByteStream,
                     progressEvents: (@Sendable (ClientEvent) -> Void)? = nil) throws -> Outcome {
        let started = Date()
        guard let file = FileHandle(forReadingAtPath: path) else { throw Failure(description: "cannot read \(path)") }
        defer { try? file.close() }
        guard link.send(line: name) else { throw Failure(description: "link lost") }
        let progress = ProgressBar(label: "p2p \(name)", total: size, events: progressEvents)
        var sent: Int64 = 0
        while sent < size {
            let chunk = file.readData(ofLength: Int(min(1 << 20, size - sent)))
            guard !chunk.isEmpty else { throw Failure(description: "\(path) shrank while sending") }
            guard chunk.withUnsafeBytes({ link.write($0) }) else { throw Failure(description: "link lost after \(sent) bytes") }
            sent += Int64(chunk.count)
            progress.update(sent)
        }
        progress.finish()
        guard let answer = link.readLine(timeout: 120) else { throw Failure(description: "no answer from the receiver") }
        guard PeerLinkLine(text: answer) == .received else { throw Failure(description: "the receiver found the file damaged") }
        return Outcome(bytes: size, seconds: Date().timeIntervalSince(started), detail: name)
    }

    static func receive(name: String, size: Int64, sha256: String, over link: ByteStream, into downloads: DownloadsFolder,
                        progressEvents: (@Sendable (ClientEvent) -> Void)? = nil) throws -> Outcome {
        let started = Date()
        guard let announced = link.readLine(timeout: 30), announced == name else {
            throw Failure(description: "the sender announced another file")
        }
        let file = try PartialFile(named: name, in: downloads)
        let hasher = SHA256Hasher()
        let progress = ProgressBar(label: "p2p \(name)", total: size, events: progressEvents)
        var received: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while received < size {
            let wanted = Int(min(Int64(buffer.count), size - received))
            // A peer gone silent for a minute is gone: every read has a deadline.
            let count = buffer.withUnsafeMutableBytes {
                link.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[..<wanted]), until: Date().addingTimeInterval(60))
            } ?? 0
            guard count > 0 else {
                file.discard()
                throw Failure(description: "link lost after \(received) of \(size) bytes; nothing kept")
            }
            try buffer.withUnsafeBytes {
                let piece = UnsafeRawBufferPointer(rebasing: $0[0..<count])
                hasher.update(piece)
                try file.write(piece)
            }
            received += Int64(count)
            progress.update(received)
        }
        progress.finish()
        guard hasher.finalHex() == sha256 else {
            file.discard()
            _ = link.send(.damaged)
            throw Failure(description: "\(name) arrived damaged (SHA-256 differs); nothing kept")
        }
        let path = try file.keep()
        _ = link.send(.received)
        return Outcome(bytes: size, seconds: Date().timeIntervalSince(started), detail: path)
    }

    /// SHA-256 of a file, read in pieces.
    static func digest(of path: String) -> String? {
        guard let file = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? file.close() }
        let hasher = SHA256Hasher()
        while true {
            let chunk = file.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            chunk.withUnsafeBytes { hasher.update($0) }
        }
        return hasher.finalHex()
    }
}
