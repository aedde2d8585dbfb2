import CZeroMQ

/// Owns one libzmq context. Sockets made from it must be closed before it is deinitialised.
public final class Context: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    public init() {
        handle = LibZMQ.newContext()
    }

    deinit {
        LibZMQ.terminate(handle)
    }

    public func socket(_ type: SocketType) throws -> Socket {
        try Socket(handle: LibZMQ.newSocket(handle, type: type.rawValue))
    }
}
