import NIOCore
import NIOHTTP1

/// Answers the one request of a metrics endpoint connection, then closes it. Parsing is
/// NIO's; what to answer is `EndpointResponse`'s.
final class EndpointRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let respond: @Sendable (HTTPMethod, String) -> EndpointResponse
    private var head: HTTPRequestHead?
    private var answered = false

    init(respond: @escaping @Sendable (HTTPMethod, String) -> EndpointResponse) {
        self.respond = respond
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            head = request
        case .body:
            // A GET has none; whatever comes is dropped (`RequestByteLimit` bounds it).
            break
        case .end:
            guard let head, !answered else { return }
            answered = true
            let response = respond(head.method, head.uri)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: response.contentType)
            headers.add(name: "Content-Length", value: String(response.body.utf8.count))
            headers.add(name: "Connection", value: "close")
            if let allow = response.allow { headers.add(name: "Allow", value: allow) }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))),
                          promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: response.body)))), promise: nil)
            // Closed once written, not before: a large page may take more than one write.
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
