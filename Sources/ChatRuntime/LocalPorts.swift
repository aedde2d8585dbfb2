import Foundation

/// Free TCP ports on loopback, for test and benchmark systems that must not collide.
public enum LocalPorts {
    public struct Unavailable: Error {}

    /// Binds `count` sockets to port 0 at once (so the ports differ), reads the ports the
    /// kernel chose, then releases them.
    public static func free(_ count: Int) throws -> [Int] {
        var descriptors: [Int32] = []
        defer { descriptors.forEach { close($0) } }
        return try (0..<count).map { _ in
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw Unavailable() }
            descriptors.append(fd)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                    bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
                }
            }
            guard bound else { throw Unavailable() }
            return Int(UInt16(bigEndian: address.sin_port))
        }
    }

    /// `--set` arguments that put auth, the router and the storage workers on these loopback
    /// ports, in that order (one storage worker per port after the second).
    public static func internalEndpointSettings(_ ports: [Int]) -> [String] {
        let storage = ports[2...].map { "\"tcp://127.0.0.1:\($0)\"" }.joined(separator: ",")
        return ["--set", "auth.endpoint=\"tcp://127.0.0.1:\(ports[0])\"",
                "--set", "router.endpoint=\"tcp://127.0.0.1:\(ports[1])\"",
                "--set", "storage.endpoints=[\(storage)]"]
    }
}
