import ChatProtocol
import NIOCore

/// What the bus thread has for one event loop after a wake-up: run there in one hop, in the
/// order it arrived, with everything it writes flushed together at the end. Replies and
/// pushes, the bulk of it, travel as plain values rather than a closure each.
struct EventLoopHandoff {
    enum Item: Sendable {
        case reply(ClientConnection, ReplySequencer.Slot, ServerReply)
        case push(ClientConnection, [UInt8])
        case work(@Sendable () -> Void)
    }

    let eventLoop: EventLoop
    let output: OutputBatch
    var items: [Item] = []

    /// Runs `items` on the event loop (call it there).
    static func run(_ items: [Item], output: OutputBatch) {
        output.open()
        for item in items {
            switch item {
            case .reply(let connection, let slot, let reply): connection.replyReady(slot, reply)
            case .push(let connection, let bytes): connection.deliverPush(bytes)
            case .work(let work): work()
            }
        }
        output.flush()
    }
}

/// A text on its way from a connection to storage, and where its reply goes.
struct TextSubmission: Sendable {
    let from: String
    let to: String
    let record: [UInt8]
    let connection: ClientConnection
    let slot: ReplySequencer.Slot
}
