import ChatProtocol
import NIOCore

/// The whole life of a connection past a connection limit: one `Too many connections` line,
/// then closed, with no session, timer or bus request spent on it. A client that sent before
/// reading may see the reset of a closed socket with unread bytes instead of the line.
final class ConnectionRefusal: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private static let line = ServerReply.tooManyConnections.line

    func channelActive(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: Self.line.count)
        buffer.writeBytes(Self.line)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
