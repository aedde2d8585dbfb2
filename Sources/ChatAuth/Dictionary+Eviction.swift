extension Dictionary {
    /// Drops the oldest entries (smallest `lastSeen`, a monotonic time) until nine tenths of `limit`
    /// remain, if more do: called when a table passes its limit, it leaves room for a tenth
    /// more before the next sort, so the sort is paid once per many new keys rather than on each.
    mutating func evictOldest(toNineTenthsOf limit: Int, by lastSeen: (Value) -> UInt64) {
        let keep = limit - limit / 10
        guard count > keep else { return }
        for (key, _) in sorted(by: { lastSeen($0.value) < lastSeen($1.value) }).prefix(count - keep) { self[key] = nil }
    }
}
