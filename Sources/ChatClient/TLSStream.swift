import Foundation
import TLSSocket

/// TLS over a TCP connection to the server's TLS port. Owns the descriptor.
final class TLSStream: ByteStream {
    private let connection: TLSConnection

    /// Makes the handshake on `descriptor` (connected), checking the certificate names `host`;
    /// closes the descriptor if that fails.
    init(over descriptor: Int32, host: String, context: TLSClientContext) throws {
        do {
            connection = try TLSConnection(over: descriptor, serverName: host, context: context, timeout: .seconds(10))
        } catch {
            close(descriptor)
            throw error
        }
    }

    /// A stream dropped (a transfer's link done with) says so in TLS first, so the server
    /// sees a clean end rather than a cut one.
    deinit {
        connection.close()
        close(connection.descriptor)
    }

    var descriptor: Int32 { connection.descriptor }

    func write(_ bytes: UnsafeRawBufferPointer) -> Bool { connection.write(bytes) }

    func read(into buffer: UnsafeMutableRawBufferPointer, until deadline: Date?) -> Int? {
        connection.read(into: buffer, until: deadline.map { ContinuousClock.now + .seconds(max(0, $0.timeIntervalSinceNow)) })
    }

    func shutdown() {
        connection.close()
        _ = Glibc.shutdown(descriptor, Int32(SHUT_RDWR))
    }
}
