import Foundation

/// The other end of the admin socket, for `chatd status` and `chatd reload`: sends one
/// request line and reads the answer to its end. Blocking, with a timeout: it is a command
/// run by hand or by a script.
public enum AdminClient {
    public enum Failure: Error, CustomStringConvertible {
        /// No socket there, or nobody listening on it.
        case notRunning(path: String)
        case failed(path: String, what: String, errno: Int32)
        case timedOut(path: String)

        public var description: String {
            switch self {
            case .notRunning(let path): "chatd is not running (no admin socket at \(path))"
            case .failed(let path, let what, let errno): "\(path): \(what) failed: \(String(cString: strerror(errno)))"
            case .timedOut(let path): "no answer from \(path) in time"
            }
        }
    }

    /// The whole answer to `request` (its newline added), as the supervisor wrote it.
    public static func ask(_ request: String, at path: String, timeout: Duration = .seconds(30)) throws(Failure) -> String {
        let descriptor = try connect(to: path)
        defer { close(descriptor) }
        var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let line = Array((request + "\n").utf8)
        var written = 0
        while written < line.count {
            let count = line[written...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .failed(path: path, what: "send", errno: errno)
            }
            written += count
        }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(descriptor, &chunk, chunk.count, 0)
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw .timedOut(path: path) }
                throw .failed(path: path, what: "recv", errno: errno)
            }
            answer += chunk[..<count]
        }
        return String(decoding: answer, as: UTF8.self)
    }

    /// A connected socket, or `notRunning` when nothing listens at `path`.
    static func connect(to path: String) throws(Failure) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw .failed(path: path, what: "connect (path too long for a Unix socket)", errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .failed(path: path, what: "socket", errno: errno) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            let error = errno
            close(descriptor)
            if error == ENOENT || error == ECONNREFUSED || error == ENOTDIR { throw .notRunning(path: path) }
            throw .failed(path: path, what: "connect", errno: error)
        }
        return descriptor
    }
}
