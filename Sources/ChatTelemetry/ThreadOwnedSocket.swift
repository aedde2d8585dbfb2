import ZeroMQ

/// A ZeroMQ socket and its context, set up on one thread and handed to the thread that alone
/// uses them from then on (libzmq sockets may move between threads with a memory barrier,
/// which starting the thread is). Unchecked for that hand-over only.
struct ThreadOwnedSocket: @unchecked Sendable {
    let context: Context
    let socket: Socket

    /// Closes the socket, then ends the context: on the owning thread, when it is done.
    func close() {
        socket.close()
        context.terminate()
    }
}
