import Foundation
import NIOCore
import NIOPosix

/// The practical ceiling: the least a chat relay can do. It speaks just enough IRC for the
/// load generator (NICK/USER, OPER, PING, PRIVMSG) and forwards each message to its target,
/// storing nothing, touching bytes in place. One event loop, so the nick table needs no lock.
public final class MinimalRelay {
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    public init() {}

    public func run(port: Int) throws {
        let table = NickTable()
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socket(IPPROTO_TCP, TCP_NODELAY), value: 1)
            .childChannelInitializer { $0.pipeline.addHandler(RelayConnection(table: table)) }
            .bind(host: "127.0.0.1", port: port).wait()
        try channel.closeFuture.wait()
    }
}

/// Unchecked: the relay has one event loop, and its connections touch the table there only.
final class NickTable: @unchecked Sendable {
    /// By FNV-1a of the nick: no String per message. A collision would misroute, which a
    /// benchmark ceiling can live with.
    var connections: [UInt64: RelayConnection] = [:]
    /// Connections written to during the current read, flushed once at its end.
    var dirty: [RelayConnection] = []

    static func key(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return hash
    }
}

/// Unchecked: a NIO handler, made and used on its channel's event loop only.
final class RelayConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let table: NickTable
    private var scanner = LineScanner()
    private var nick: [UInt8] = []
    private var pending: ByteBuffer?
    private var context: ChannelHandlerContext?

    init(table: NickTable) { self.table = table }

    func channelActive(context: ChannelHandlerContext) { self.context = context }

    func channelInactive(context: ChannelHandlerContext) {
        let key = nick.withUnsafeBytes(NickTable.key)
        if table.connections[key] === self { table.connections.removeValue(forKey: key) }
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        scanner.scan(unwrapInboundIn(data)) { handle($0) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        for connection in table.dirty { connection.flushPending() }
        table.dirty.removeAll(keepingCapacity: true)
    }

    private func handle(_ line: UnsafeRawBufferPointer) {
        if let target = privateMessageTarget(line) {
            // `:nick ` + the line + CRLF with one reservation and plain stores: a ByteBuffer
            // write per piece, each checking capacity, cost more than finding the target.
            let length = nick.count + 2 + line.count + 2
            target.append { buffer in
                buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { free in
                    free[0] = UInt8(ascii: ":")
                    nick.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: free[1..<1 + nick.count]).copyMemory(from: $0) }
                    free[nick.count + 1] = UInt8(ascii: " ")
                    UnsafeMutableRawBufferPointer(rebasing: free[(nick.count + 2)..<(length - 2)]).copyMemory(from: line)
                    free[length - 2] = 13
                    free[length - 1] = 10
                    return length
                }
            }
        } else if line.starts(with: "NICK ".utf8) {
            nick = Array(line[5...])
        } else if line.starts(with: "USER ".utf8) {
            table.connections[nick.withUnsafeBytes(NickTable.key)] = self
            reply(":relay 001 \(String(decoding: nick, as: UTF8.self)) :welcome\r\n")
        } else if line.starts(with: "OPER ".utf8) {
            reply(":relay 381 \(String(decoding: nick, as: UTF8.self)) :operator\r\n")
        } else if line.starts(with: "PING".utf8) {
            reply("PONG" + String(decoding: line.dropFirst(4), as: UTF8.self) + "\r\n")
        }
    }

    /// The connection a `PRIVMSG <nick> ...` line goes to, checked with memcmp and memchr:
    /// this runs for every message, and the generic sequence helpers cost more than the rest.
    private func privateMessageTarget(_ line: UnsafeRawBufferPointer) -> RelayConnection? {
        let command: StaticString = "PRIVMSG "
        guard line.count > command.utf8CodeUnitCount, let base = line.baseAddress,
              memcmp(base, command.utf8Start, command.utf8CodeUnitCount) == 0 else { return nil }
        let nickStart = base + command.utf8CodeUnitCount
        let rest = line.count - command.utf8CodeUnitCount
        guard let space = memchr(nickStart, Int32(UInt8(ascii: " ")), rest) else { return nil }
        return table.connections[NickTable.key(UnsafeRawBufferPointer(start: nickStart, count: UnsafeRawPointer(space) - nickStart))]
    }

    private func reply(_ text: String) {
        append { $0.writeString(text) }
    }

    private func append(_ write: (inout ByteBuffer) -> Void) {
        guard let context else { return }
        if pending == nil {
            pending = context.channel.allocator.buffer(capacity: 4096)
            table.dirty.append(self)
        }
        write(&pending!)
    }

    func flushPending() {
        guard let context, let buffer = pending else { return }
        pending = nil
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }
}
