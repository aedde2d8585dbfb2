/// How many bytes of voice and file messages one user may have stored in all
/// (`auth.max_stored_bytes_per_user`). Storage is split by conversation pair over several
/// workers, so no worker knows a user's total: auth, which every upload asks first, keeps it.
/// Texts do not count: each is at most 64 KiB and they are held to `gateway.messages_per_second`.
struct StorageQuota: Sendable {
    /// 0 means no limit.
    let maxBytesPerUser: Int64

    /// The user's new total if `bytes` more fit beside the `stored` already counted; nil if
    /// they would go past the quota.
    func total(adding bytes: Int64, to stored: Int64) -> Int64? {
        let (total, overflow) = stored.addingReportingOverflow(bytes)
        if maxBytesPerUser == 0 { return overflow ? .max : total }
        return !overflow && total <= maxBytesPerUser ? total : nil
    }

    /// The total once `bytes` reserved earlier count no more; never below zero, so a release
    /// that finds less counted (an operator reset the count meanwhile) cannot leave credit.
    static func total(releasing bytes: Int64, from stored: Int64) -> Int64 {
        max(0, stored - bytes)
    }
}

/// A reservation or release of a negative number of bytes: only a hostile or broken bus peer
/// sends one.
struct NegativeByteCount: Error, CustomStringConvertible {
    let bytes: Int64
    var description: String { "negative byte count \(bytes)" }
}
