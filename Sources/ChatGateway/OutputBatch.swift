import NIOCore

/// The connections of one event loop written to while a hand-over of bus results runs there,
/// flushed together when it ends: one pass over them instead of a task scheduled per
/// connection.
///
/// `@unchecked Sendable`: the bus thread only carries it to its event loop; its state is read
/// and written on that event loop alone.
final class OutputBatch: @unchecked Sendable {
    /// True while a hand-over runs: writes then wait for its end to be flushed.
    private(set) var isOpen = false
    private var written: [ClientConnection] = []

    func open() { isOpen = true }

    func add(_ connection: ClientConnection) { written.append(connection) }

    func flush() {
        isOpen = false
        let connections = written
        written.removeAll(keepingCapacity: true)
        for connection in connections { connection.flushOutput() }
    }
}

/// One `OutputBatch` per event loop of the gateway, made before any connection exists.
struct OutputBatches: Sendable {
    private let batches: [ObjectIdentifier: OutputBatch]

    init(group: EventLoopGroup) {
        var batches: [ObjectIdentifier: OutputBatch] = [:]
        for eventLoop in group.makeIterator() { batches[ObjectIdentifier(eventLoop as AnyObject)] = OutputBatch() }
        self.batches = batches
    }

    func batch(for eventLoop: EventLoop) -> OutputBatch {
        batches[ObjectIdentifier(eventLoop as AnyObject)]!
    }
}
