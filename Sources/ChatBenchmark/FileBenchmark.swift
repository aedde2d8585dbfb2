import ChatProtocol
import Dispatch
import Foundation

/// One large file through the server: upload, then download, timed, beside the machine's
/// ceilings for the same size: a plain loopback TCP copy, and a durable write to disk (an
/// upload is fsynced before its `ok`, so it cannot beat the disk).
public struct FileBenchmark {
    public struct Result: Sendable {
        public let bytes: Int64
        public let uploadSeconds: Double
        public let downloadSeconds: Double
        public let loopbackSeconds: Double
        public let diskSeconds: Double
    }

    public let port: Int
    /// The certificate (PEM file) to trust when `port` is a TLS port; nil for plaintext.
    public let tlsTrust: String?
    public let bytes: Int64

    public init(port: Int, tlsTrust: String? = nil, bytes: Int64) {
        self.port = port
        self.tlsTrust = tlsTrust
        self.bytes = bytes
    }

    public func run(uidBase: Int, measure: (String) -> Void) throws -> Result {
        let sender = String(format: "%06d", uidBase), receiver = String(format: "%06d", uidBase + 1)
        let client = try BlockingSocket(port: port, tlsTrust: tlsTrust)
        _ = try client.ask(.signUp(uid: receiver, password: "benchmark"))
        _ = try client.ask(.signUp(uid: sender, password: "benchmark"))
        guard try client.ask(.signIn(uid: sender, password: "benchmark")) == .signInSucceeded else {
            throw BlockingSocket.Failure(description: "sign-in failed")
        }
        let name = "bench-\(UInt32.random(in: 0...UInt32.max)).bin"
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 8)
        defer { chunk.deallocate() }
        for index in 0..<chunk.count { chunk[index] = UInt8(truncatingIfNeeded: index &* 31) }

        let uploadStart = DispatchTime.now().uptimeNanoseconds
        let header = MessageHeader(sender: sender, recipient: receiver, timestamp: "202004131702", kind: .file(size: bytes))
        guard try client.ask(.message(header: header, body: name)) == .ok else {
            throw BlockingSocket.Failure(description: "upload refused")
        }
        var sent: Int64 = 0
        while sent < bytes {
            let count = Int(min(Int64(chunk.count), bytes - sent))
            try client.send(UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
            sent += Int64(count)
        }
        let final = try client.readLine()
        guard [.ok, .targetUserOffline].contains(ServerReply(text: final)) else { throw BlockingSocket.Failure(description: "upload: \(final)") }
        let uploadSeconds = Self.seconds(since: uploadStart)
        measure("upload")

        let downloadStart = DispatchTime.now().uptimeNanoseconds
        guard try client.ask(.historyFile(uid: sender, peer: receiver, name: name)) == .dataSize(Int(bytes)) else {
            throw BlockingSocket.Failure(description: "download refused")
        }
        try client.send(.dataAnswer(.accept))
        try client.drain(bytes, into: chunk)
        let downloadSeconds = Self.seconds(since: downloadStart)
        measure("download")

        return Result(bytes: bytes, uploadSeconds: uploadSeconds, downloadSeconds: downloadSeconds,
                      loopbackSeconds: try loopbackCopy(chunk), diskSeconds: try diskWrite(chunk))
    }

    /// The same number of bytes written to a file in the temporary folder (where the benchmark's
    /// own system keeps its data) and fsynced once at the end.
    private func diskWrite(_ chunk: UnsafeMutableRawBufferPointer) throws -> Double {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("chat-bench-disk-\(UUID().uuidString)").path
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw BlockingSocket.Failure(description: "cannot create \(path)") }
        defer { close(descriptor); unlink(path) }
        let start = DispatchTime.now().uptimeNanoseconds
        var written: Int64 = 0
        while written < bytes {
            let count = write(descriptor, chunk.baseAddress, Int(min(Int64(chunk.count), bytes - written)))
            guard count > 0 else { throw BlockingSocket.Failure(description: "write \(path) failed") }
            written += Int64(count)
        }
        guard fsync(descriptor) == 0 else { throw BlockingSocket.Failure(description: "fsync \(path) failed") }
        return Self.seconds(since: start)
    }

    /// The same number of bytes over a plain loopback TCP connection, sender to receiver.
    private func loopbackCopy(_ chunk: UnsafeMutableRawBufferPointer) throws -> Double {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && getsockname(listener, $0, &length) == 0 }
        }
        listen(listener, 1)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let total = bytes
        let start = DispatchTime.now().uptimeNanoseconds
        let receiver = Thread {
            let accepted = BlockingSocket(descriptor: accept(listener, nil, nil))
            let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 8)
            try? accepted.drain(total, into: scratch)
            scratch.deallocate()
        }
        let sender = try BlockingSocket(port: port)
        receiver.start()
        var sent: Int64 = 0
        while sent < bytes {
            let count = Int(min(Int64(chunk.count), bytes - sent))
            try sender.send(UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
            sent += Int64(count)
        }
        shutdown(sender.descriptor, Int32(SHUT_WR))
        // The receiver closes once it has everything; wait for that.
        var byte: UInt8 = 0
        _ = recv(sender.descriptor, &byte, 1, 0)
        return Self.seconds(since: start)
    }

    static func seconds(since start: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
