import Foundation

/// A listening socket on a loopback port: held, as another program would hold it (to see what
/// chatd does with a port it cannot bind), or serving as a fake server a client connects to.
/// Closed when released.
public final class LoopbackListener: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible { public let description: String }

    public let port: Int
    private let descriptor: Int32

    /// Listens on `port`, or on a free port the system picks (0).
    public init(port: Int = 0) throws {
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
        guard listening else { throw Failure(description: "cannot hold port \(port): errno \(errno)") }
    }

    deinit { close(descriptor) }

    /// The next connection's descriptor (the caller closes it); -1 on failure.
    public func accept() -> Int32 { Glibc.accept(descriptor, nil, nil) }
}
