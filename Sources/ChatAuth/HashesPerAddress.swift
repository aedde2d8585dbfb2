/// How many password hashes each client address has waiting or running, so that one address
/// cannot fill the whole hashing queue (`HashingAdmission`) and make everyone else wait behind
/// its guesses. Only addresses with a hash under way are kept, so it holds at most as many
/// entries as the queue.
///
/// Used on the auth worker's bus thread.
struct HashesPerAddress {
    /// A reload may change it; hashes under way past a lowered limit finish.
    var limit: Int
    private(set) var underWay: [String: Int] = [:]

    init(limit: Int) { self.limit = limit }

    /// Takes a hash on for `address` (nil: not given, never limited), or refuses it.
    mutating func admit(_ address: String?) -> Bool {
        guard let address else { return true }
        let count = underWay[address, default: 0]
        guard count < limit else { return false }
        underWay[address] = count + 1
        return true
    }

    /// A hash taken on by `admit` is done (computed, skipped or refused after all).
    mutating func finished(_ address: String?) {
        guard let address, let count = underWay[address] else { return }
        underWay[address] = count > 1 ? count - 1 : nil
    }
}
