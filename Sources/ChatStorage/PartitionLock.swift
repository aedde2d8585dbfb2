import Foundation

/// The right to serve one partition: an exclusive `flock` on `history/partition-N.lock`, beside
/// the partition's database.
///
/// Whatever the workers' configurations say, two of them never write one partition: each takes
/// this lock before it opens the partition's database or touches its files, and lets it go only
/// after its last commit. The kernel lets it go when the process dies, so a crashed owner never
/// blocks the next one.
///
/// flock locks belong to the open file description, not the process: a second `PartitionLock`
/// on the same file fails even in the process holding the first, and a descriptor inherited by
/// a child would keep the lock alive after the owner exits, hence O_CLOEXEC.
///
/// Unchecked: `descriptor` changes only in `release`, called on the thread that owns the
/// worker's partitions.
final class PartitionLock: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ call: String, _ path: String, errno code: Int32) {
            description = "\(call) \(path): \(String(cString: strerror(code)))"
        }
    }

    let path: String
    private var descriptor: Int32

    /// Takes the lock on `path`, making the file if it is missing; nil while another open file
    /// holds it. Never waits.
    init?(path: String) throws {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Failure("open", path, errno: errno) }
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            close(descriptor)
            if code == EWOULDBLOCK { return nil }
            throw Failure("flock", path, errno: code)
        }
        self.path = path
        self.descriptor = descriptor
    }

    /// Lets the lock go (closing the descriptor does); the file stays for the next owner.
    func release() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}
