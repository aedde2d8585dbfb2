import Foundation

/// A listening socket holding a loopback port, as another program would hold it, so that a
/// test can see what chatd does with a port it cannot bind; closed when released.
final class LoopbackListener {
    let port: Int
    private let descriptor: Int32

    /// Listens on `port`, or on a free port the system picks (0).
    init(port: Int = 0) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && listen(descriptor, 1) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        // Thrown with every property set: deinit closes the descriptor.
        self.port = Int(UInt16(bigEndian: address.sin_port))
        guard listening else { throw ChatSystem.Failure(description: "cannot hold port \(port): errno \(errno)") }
    }

    deinit { close(descriptor) }
}
