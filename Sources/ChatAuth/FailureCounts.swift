/// Failed sign-ins counted under one kind of key (client addresses, or accounts), with the
/// wait they impose: the first `free` cost nothing; each further one makes the key wait
/// `firstDelay`, then twice that, and so on up to `maxDelay`, counted from its last failure.
/// A key with no failure for `forgetAfter` starts afresh. At most `maxKeys` keys are kept;
/// past that the longest quiet go first, so a flood of keys cannot grow it without bound.
///
/// `SignUpLimit` counts sign-ups with it too, each sign-up a "failure".
///
/// Times are monotonic nanoseconds, passed in (`now`), so it needs no clock to test.
struct FailureCounts {
    struct Policy: Equatable, Sendable {
        var free: Int
        var firstDelay: UInt64
        var maxDelay: UInt64
        var forgetAfter: UInt64
        var maxKeys: Int

        /// This policy, remembering at most `maxKeys` keys.
        func keeping(maxKeys: Int) -> Policy {
            var policy = self
            policy.maxKeys = maxKeys
            return policy
        }
    }

    struct Record: Equatable {
        var failures: Int
        var lastFailure: UInt64
    }

    /// A reload may change it; the failures counted stay, judged by the new policy.
    var policy: Policy
    private(set) var records: [String: Record] = [:]

    init(policy: Policy) { self.policy = policy }

    /// How long `key` must still wait before its next attempt is checked; nil when it may go now.
    func wait(for key: String, now: UInt64) -> UInt64? {
        guard let record = records[key], !isForgotten(record, now: now) else { return nil }
        let until = record.lastFailure &+ delay(afterFailures: record.failures)
        return now < until ? until - now : nil
    }

    /// Counts a failure; returns the wait it starts (0 while failures are still free).
    @discardableResult
    mutating func fail(_ key: String, now: UInt64) -> UInt64 {
        var record = records[key].flatMap { isForgotten($0, now: now) ? nil : $0 } ?? Record(failures: 0, lastFailure: now)
        record.failures += 1
        record.lastFailure = now
        if records.updateValue(record, forKey: key) == nil, records.count > policy.maxKeys { evict(now: now) }
        return delay(afterFailures: record.failures)
    }

    /// The key proved itself (the account's owner signed in): its failures are forgotten.
    mutating func forget(_ key: String) {
        records[key] = nil
    }

    /// The wait `failures` in a row impose: none for the free ones, then doubling to the cap.
    func delay(afterFailures failures: Int) -> UInt64 {
        let beyondFree = failures - policy.free
        guard beyondFree > 0 else { return 0 }
        let doublings = beyondFree - 1
        guard doublings < 63, policy.firstDelay <= policy.maxDelay >> doublings else { return policy.maxDelay }
        return policy.firstDelay << doublings
    }

    private func isForgotten(_ record: Record, now: UInt64) -> Bool {
        now >= record.lastFailure && now - record.lastFailure >= policy.forgetAfter
    }

    /// Over `maxKeys`: drops the forgotten, then the longest quiet down to nine tenths of it.
    private mutating func evict(now: UInt64) {
        records = records.filter { !isForgotten($0.value, now: now) }
        records.evictOldest(toNineTenthsOf: policy.maxKeys) { $0.lastFailure }
    }
}
