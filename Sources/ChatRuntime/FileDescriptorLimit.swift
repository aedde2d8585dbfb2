import CLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The process's limit on open files (`RLIMIT_NOFILE`): every client connection, stored file
/// and bus socket takes one.
public enum FileDescriptorLimit {
    /// Raises the soft limit to the hard one, as servers do at start: the usual soft default
    /// (1024) suits interactive programs, not a server holding a connection per user. Children
    /// inherit it. Returns the soft limit in force afterwards.
    @discardableResult
    public static func raiseToHardLimit() -> Int? {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// Closes the descriptors this process inherited numbered at or past its soft limit (a
    /// parent with many open that started it under a lower limit, `prlimit` say). It cannot
    /// have opened them itself, and uses none; but while one is open, Foundation cannot start a
    /// child (it asks for every descriptor up to the highest to be closed, which fails past the
    /// limit with EBADF), so a supervisor holding one could start none of its workers.
    public static func closeInheritedPastLimit() {
        guard let limit = current, limit < Int(UInt32.max) else { return }
        if close_descriptors_from(UInt32(limit)) == 0 { return }
        // Kernels before 5.9: by the list of open descriptors.
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let descriptor = Int32(entry), descriptor >= limit { close(descriptor) }
        }
    }

    /// The soft limit now in force: the most descriptors this process may have open.
    public static var current: Int? {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return nil }
        return Int(clamping: limit.rlim_cur)
    }

    // Glibc's `__rlimit_resource_t` is a plain int when built without _GNU_SOURCE, as Swift's is.
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
}
