import CZeroMQ

/// Owns one libzmq context. Sockets made from it must be closed before it is deinitialised.
/// Not shared between threads: its owner (a `BusLoop`) terminates it on its own thread.
public final class Context {
    let handle: UnsafeMutableRawPointer
    private var isTerminated = false

    public init() {
        handle = LibZMQ.newContext()
    }

    deinit { terminate() }

    /// Blocks until every socket is closed and their queued messages are sent (or their
    /// linger has passed). Sockets must be closed first.
    public func terminate() {
        guard !isTerminated else { return }
        isTerminated = true
        LibZMQ.terminate(handle)
    }

    public func socket(_ type: SocketType) throws -> Socket {
        try Socket(handle: LibZMQ.newSocket(handle, type: type.rawValue))
    }
}
