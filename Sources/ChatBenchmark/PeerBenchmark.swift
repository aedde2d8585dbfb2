import Foundation

/// A peer-to-peer transfer between two real `chat` clients, timed from the events they print
/// with `--json`: from the offer (the server's `p2p offered`) to the receiver's first bytes,
/// and to the file received and checked. On loopback (once direct, once forced through the
/// relay) or in the NAT lab's hosts.
public struct PeerBenchmark {
    public struct Run: Sendable {
        public let label: String
        /// `direct` or `relay`, as the receiver reported it.
        public let route: String
        public let offerToFirstByte: Double
        public let offerToDone: Double
        /// The receiving client's own line about it.
        public let report: String
    }

    /// Where the clients run and how they reach the server.
    public struct Place: Sendable {
        /// Arguments for both clients (`--host`, `--port`).
        public let serverArguments: [String]
        /// Runs a client in the sender's or the receiver's place (`ip netns exec HOST`, or nothing).
        public let senderWrapper: [String]
        public let receiverWrapper: [String]

        public static func loopback(port: Int) -> Place {
            Place(serverArguments: ["--port", String(port)], senderWrapper: [], receiverWrapper: [])
        }

        public static func lab(_ lab: NATLab, sender: String, receiver: String) -> Place {
            Place(serverArguments: ["--host", NATLab.serverAddress, "--port", "7890"],
                  senderWrapper: ["ip", "netns", "exec", sender], receiverWrapper: ["ip", "netns", "exec", receiver])
        }
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    public let bytes: Int

    public init(bytes: Int) { self.bytes = bytes }

    /// One transfer: `arguments` go to both clients (`--p2p-timeout 0` forces the relay).
    public func run(_ label: String, at place: Place, uids: (sender: Int, receiver: Int), arguments: [String] = []) throws -> Run {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chat-bench-p2p-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = folder.appendingPathComponent("payload.bin")
        _ = FileManager.default.createFile(atPath: source.path, contents: nil)
        let file = try FileHandle(forWritingTo: source)
        let block = Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 131) })
        for _ in 0..<max(1, bytes >> 20) { file.write(block) }
        try file.close()

        let sender = String(format: "%06d", uids.sender), receiver = String(format: "%06d", uids.receiver)
        let receiving = try TimedEvents(wrapper: place.receiverWrapper, arguments: place.serverArguments + arguments
            + ["--json", "--accept-p2p", "--downloads", folder.appendingPathComponent("received").path],
            script: "/signup \(receiver) pw\n/signin \(receiver) pw\n/wait-p2p 1 600\n")
        guard receiving.waitFor(timeout: 30, { $0["reply"] as? String == "signin successfully" }) != nil else {
            throw Failure(description: "the receiver did not sign in")
        }
        let sending = try TimedEvents(wrapper: place.senderWrapper, arguments: place.serverArguments + arguments + ["--json"],
                                      script: "/signup \(sender) pw\n/signin \(sender) pw\n/p2p \(receiver) \(source.path)\n/wait-p2p 1 600\n")
        sending.finish()
        receiving.finish()
        guard let offered = sending.first({ $0["phase"] as? String == "offered" })?.time,
              let firstByte = receiving.first({ $0["event"] as? String == "progress" })?.time,
              let done = receiving.first({ $0["phase"] as? String == "received" }) else {
            throw Failure(description: "no transfer; the sender printed:\n\(sending.text)\nthe receiver:\n\(receiving.text)")
        }
        return Run(label: label, route: done.event["route"] as? String ?? "?", offerToFirstByte: firstByte - offered,
                   offerToDone: done.time - offered, report: done.event["text"] as? String ?? "")
    }
}

/// A `chat --json` client run with a script, each line of its output timed as it arrives.
///
/// Unchecked: `events` and `raw` are touched only under `lock`.
final class TimedEvents: @unchecked Sendable {
    private let process = Process()
    private let lock = NSCondition()
    private var events: [(time: Double, event: [String: Any])] = []
    private var raw = ""
    private var ended = false

    init(wrapper: [String], arguments: [String], script: String) throws {
        let chat = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("chat")
        process.setCommand(chat, arguments: arguments, under: wrapper)
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        Thread { [self] in read(output.fileHandleForReading) }.start()
        input.fileHandleForWriting.write(Data(script.utf8))
        try input.fileHandleForWriting.close()
    }

    private func read(_ handle: FileHandle) {
        var pending = Data()
        while true {
            let chunk = handle.availableData
            let now = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
            lock.lock()
            defer { lock.broadcast(); lock.unlock() }
            guard !chunk.isEmpty else {
                ended = true
                return
            }
            pending += chunk
            while let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending[pending.startIndex..<end]
                pending = pending[(end + 1)...]
                raw += String(decoding: line, as: UTF8.self) + "\n"
                if let event = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] { events.append((now, event)) }
            }
        }
    }

    /// The first event `matching`, waiting up to `timeout` seconds for it.
    func waitFor(timeout: Double, _ matching: ([String: Any]) -> Bool) -> [String: Any]? {
        let deadline = Date().addingTimeInterval(timeout)
        lock.lock()
        defer { lock.unlock() }
        while true {
            if let found = events.first(where: { matching($0.event) }) { return found.event }
            guard !ended, lock.wait(until: deadline) else { return nil }
        }
    }

    /// Until the client has exited (its script ends with a wait for the transfer).
    func finish() {
        process.waitUntilExit()
        lock.lock()
        while !ended { lock.wait() }
        lock.unlock()
    }

    func first(_ matching: ([String: Any]) -> Bool) -> (time: Double, event: [String: Any])? {
        lock.lock()
        defer { lock.unlock() }
        return events.first { matching($0.event) }
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return raw
    }
}
