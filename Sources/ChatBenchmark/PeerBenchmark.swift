import Foundation

/// A peer-to-peer transfer between two real `chat` clients: once direct, once forced through
/// the relay, reporting what the clients measured (time to connect, throughput).
public struct PeerBenchmark {
    public struct Run: Sendable {
        public let route: String
        /// The receiving client's own report line.
        public let report: String
    }

    public let port: Int
    public let bytes: Int

    public init(port: Int, bytes: Int) {
        self.port = port
        self.bytes = bytes
    }

    public func run(uidBase: Int) throws -> [Run] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chat-bench-p2p-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = folder.appendingPathComponent("payload.bin")
        // An empty file to open for writing; if it cannot be made, opening it throws the reason.
        _ = FileManager.default.createFile(atPath: source.path, contents: nil)
        let file = try FileHandle(forWritingTo: source)
        let block = Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 131) })
        for _ in 0..<(bytes >> 20) { file.write(block) }
        try file.close()

        var runs: [Run] = []
        for (index, (route, timeout)) in [("direct", "5"), ("relay", "0")].enumerated() {
            let sender = String(format: "%06d", uidBase + 10 + 2 * index), receiver = String(format: "%06d", uidBase + 11 + 2 * index)
            let receiving = try chat(script: "/signup \(receiver) pw\n/signin \(receiver) pw\n/wait-p2p 1 600\n",
                                     arguments: ["--accept-p2p", "--p2p-timeout", timeout, "--downloads", folder.appendingPathComponent(route).path])
            Thread.sleep(forTimeInterval: 1)
            let sending = try chat(script: "/signup \(sender) pw\n/signin \(sender) pw\n/p2p \(receiver) \(source.path)\n/wait-p2p 1 600\n",
                                   arguments: ["--p2p-timeout", timeout])
            _ = output(of: sending)
            let report = output(of: receiving).split(separator: "\n").first { $0.hasPrefix("p2p: received") }.map(String.init)
            runs.append(Run(route: route, report: report ?? "no transfer"))
        }
        return runs
    }

    private func chat(script: String, arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("chat")
        process.arguments = ["--port", String(port)] + arguments
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(script.utf8))
        try input.fileHandleForWriting.close()
        return process
    }

    private func output(of process: Process) -> String {
        let data = (process.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
