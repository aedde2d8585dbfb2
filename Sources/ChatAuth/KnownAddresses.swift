/// The client addresses each account last signed in from, in memory: an address here is taken
/// to be its owner's, so guesses at the account from elsewhere cannot lock the owner out.
/// Each account keeps its `perAccount` most recent; at most `maxAccounts` accounts are kept,
/// the longest unseen going first. Lost when auth restarts (the owner's next sign-in from
/// anywhere not throttled records the address again).
struct KnownAddresses {
    let perAccount: Int
    let maxAccounts: Int
    /// Most recent last; `lastSeen` orders accounts for eviction.
    private(set) var addresses: [String: (recent: [String], lastSeen: UInt64)] = [:]

    init(perAccount: Int, maxAccounts: Int) {
        self.perAccount = perAccount
        self.maxAccounts = maxAccounts
    }

    func isKnown(_ address: String, for account: String) -> Bool {
        addresses[account]?.recent.contains(address) ?? false
    }

    mutating func signedIn(_ account: String, from address: String, now: UInt64) {
        guard perAccount > 0 else { return }
        var recent = addresses[account]?.recent ?? []
        recent.removeAll { $0 == address }
        recent.append(address)
        if recent.count > perAccount { recent.removeFirst(recent.count - perAccount) }
        let isNew = addresses.updateValue((recent, now), forKey: account) == nil
        if isNew, addresses.count > maxAccounts { evict() }
    }

    /// Drops the longest unseen accounts down to nine tenths of `maxAccounts`.
    private mutating func evict() {
        addresses.evictOldest(toNineTenthsOf: maxAccounts) { $0.lastSeen }
    }
}
