import Foundation

/// Free TCP ports on loopback, for test and benchmark systems that must not collide.
public enum LocalPorts {
    public struct Unavailable: Error {}

    /// `count` different ports that are free now, below Linux's ephemeral range (32768 and up)
    /// so that no client connection's local port can take one before the server binds it.
    public static func free(_ count: Int) throws -> [Int] {
        var descriptors: [Int32] = []
        defer { descriptors.forEach { close($0) } }
        var ports: [Int] = []
        for _ in 0..<(count * 200) where ports.count < count {
            let candidate = Int.random(in: 20_000..<32_000)
            guard !ports.contains(candidate) else { continue }
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw Unavailable() }
            descriptors.append(fd)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(candidate).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            if bound { ports.append(candidate) }
        }
        guard ports.count == count else { throw Unavailable() }
        return ports
    }

    /// `--set` arguments that put auth, the router and the storage workers on these loopback
    /// ports, in that order (one storage worker per port after the second), and turn the
    /// metrics endpoint off, whose default port would be shared by every system on the machine
    /// (a later `--set metrics.listen=...` turns it on again). `storageInConfigFile`: the
    /// storage endpoints are left out, for a config file to name (`storageConfig`), which a
    /// reload can change (`--set` would win over the file).
    public static func internalEndpointSettings(_ ports: [Int], storageInConfigFile: Bool = false) -> [String] {
        var settings = ["--set", "auth.endpoint=\"tcp://127.0.0.1:\(ports[0])\"",
                        "--set", "router.endpoint=\"tcp://127.0.0.1:\(ports[1])\""]
        if !storageInConfigFile {
            let storage = ports[2...].map { "\"tcp://127.0.0.1:\($0)\"" }.joined(separator: ",")
            settings += ["--set", "storage.endpoints=[\(storage)]"]
        }
        return settings + ["--set", "metrics.listen=\"\""]
    }

    /// A config file's line naming the storage workers' `endpoints`.
    public static func storageConfig(_ endpoints: [String]) -> String {
        ConfigFile.write(["storage.endpoints": .strings(endpoints)])
    }
}
