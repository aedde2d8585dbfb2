import NIOCore

/// Closes a connection that sends more than `limit` bytes, before HTTP parsing sees them. The
/// endpoint serves one small GET per connection, so this caps the request line and headers
/// (and any body) together, far below the HTTP decoder's own 80 KiB per header.
final class RequestByteLimit: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let limit: Int
    private var received = 0

    init(limit: Int) {
        self.limit = limit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytes
        guard received <= limit else {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
    }
}
