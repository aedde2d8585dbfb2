@testable import ChatGateway
import NIOCore
import NIOEmbedded
import Testing

@Suite struct ConnectionRefusalTests {
    @Test func aRefusedConnectionGetsOneLineAndIsClosed() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ConnectionRefusal())
        try channel.connect(to: SocketAddress(ipAddress: "198.51.100.7", port: 40000)).wait()
        channel.embeddedEventLoop.run()
        let written = try channel.readOutbound(as: ByteBuffer.self)
        #expect(written.map { String(buffer: $0) } == "Too many connections\n")
        #expect(!channel.isActive)
    }
}
