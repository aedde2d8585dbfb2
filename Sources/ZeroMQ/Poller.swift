import CZeroMQ

/// Waits on several sockets and plain file descriptors at once.
public struct Poller {
    public enum Item {
        case socket(Socket)
        case fileDescriptor(Int32)
    }

    private var items: [zmq_pollitem_t]

    public init(_ watched: [Item]) {
        items = watched.map { item in
            switch item {
            case .socket(let socket):
                return zmq_pollitem_t(socket: socket.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
            case .fileDescriptor(let fd):
                return zmq_pollitem_t(socket: nil, fd: fd, events: Int16(ZMQ_POLLIN), revents: 0)
            }
        }
    }

    /// Waits up to `timeoutMilliseconds` (-1 forever); returns the indexes that are readable.
    public mutating func poll(timeoutMilliseconds: Int) throws -> [Int] {
        for index in items.indices { items[index].revents = 0 }
        let ready = try LibZMQ.poll(&items, timeoutMilliseconds: timeoutMilliseconds)
        guard ready > 0 else { return [] }
        return items.indices.filter { items[$0].revents & Int16(ZMQ_POLLIN) != 0 }
    }
}
