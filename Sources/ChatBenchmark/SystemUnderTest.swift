import ChatRuntime
import Foundation

/// A chat system the benchmark starts itself, as users start it (`chatd`, the supervisor), on
/// free loopback ports with a temporary data folder; stopped with SIGTERM when done.
public final class SystemUnderTest {
    public let port: Int
    private let process = Process()
    private let dataDirectory: URL

    /// `settings` are extra `key=value` overrides (e.g. a low scrypt cost for many sign-ins).
    public init(settings: [String], storageWorkers: Int) throws {
        let ports = try LocalPorts.free(3 + storageWorkers)
        port = ports[0]
        dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("chat-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("chatd")
        process.executableURL = executable
        process.arguments = ["--data-dir", dataDirectory.path, "--port", String(port), "--set", "log_level=\"warning\""]
            + LocalPorts.internalEndpointSettings(Array(ports.dropFirst()))
            + settings.flatMap { ["--set", $0] }
            + ["--exit-with-parent", String(getpid())]
        try process.run()
        try waitForPort()
    }

    public var supervisorPID: Int32 { process.processIdentifier }

    private func waitForPort() throws {
        struct NotListening: Error {}
        for _ in 0..<200 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            close(fd)
            if connected { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw NotListening()
    }

    public func stop() {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: dataDirectory)
    }
}
