import ChatRuntime

/// Failed sign-ins counted per client address and per account, with growing waits, in the
/// spirit of ejabberd's mod_fail2ban and Synapse's rc_login. A sign-in whose address or
/// account must still wait is refused before anything is looked up or hashed, the same way
/// whether or not its password was right. Unknown uids count against the address only (so
/// listing uids is as slow as guessing passwords, and a flood of made-up uids takes no memory
/// per uid).
///
/// Owner protection: the account's wait does not apply to an address the account signed in
/// from lately (`KnownAddresses`), so guesses from elsewhere cannot lock its owner out; the
/// address's own wait always applies. A sign-in that succeeds forgets the account's failures
/// but not the address's: an attacker signing in to an account of its own does not buy itself
/// more guesses.
///
/// Used on auth's bus thread only; times are monotonic nanoseconds, passed in.
struct SignInThrottle {
    enum Outcome: Equatable {
        case signedIn, wrongPassword, unknownUid
    }

    private(set) var perAddress: FailureCounts
    private(set) var perAccount: FailureCounts
    private(set) var knownAddresses: KnownAddresses

    init(perAddress: FailureCounts.Policy, perAccount: FailureCounts.Policy, knownAddressesPerAccount: Int) {
        self.perAddress = FailureCounts(policy: perAddress)
        self.perAccount = FailureCounts(policy: perAccount)
        knownAddresses = KnownAddresses(perAccount: knownAddressesPerAccount, maxAccounts: perAccount.maxKeys)
    }

    init(_ configuration: ChatConfiguration) {
        let nanosPerSecond: UInt64 = 1_000_000_000
        func policy(free: Int) -> FailureCounts.Policy {
            FailureCounts.Policy(free: free,
                                 firstDelay: UInt64(configuration.firstSignInDelayMilliseconds) * 1_000_000,
                                 maxDelay: UInt64(configuration.maxSignInDelaySeconds) * nanosPerSecond,
                                 forgetAfter: UInt64(configuration.failedSignInsForgottenAfterSeconds) * nanosPerSecond,
                                 maxKeys: configuration.maxTrackedSignInKeys)
        }
        self.init(perAddress: policy(free: configuration.freeFailedSignInsPerAddress),
                  perAccount: policy(free: configuration.freeFailedSignInsPerAccount),
                  knownAddressesPerAccount: configuration.knownAddressesPerAccount)
    }

    /// Counts by the waits and allowances of `configuration` from now on (a reload), keeping
    /// every failure counted. How many keys are remembered stays as it started
    /// (`auth.max_tracked_sign_in_keys` needs a restart).
    mutating func adopt(_ configuration: ChatConfiguration) {
        let new = SignInThrottle(configuration)
        perAddress.policy = new.perAddress.policy.keeping(maxKeys: perAddress.policy.maxKeys)
        perAccount.policy = new.perAccount.policy.keeping(maxKeys: perAccount.policy.maxKeys)
    }

    /// How long a sign-in to `account` from `address` (nil: not given) must still wait before
    /// it is checked; nil when it may be checked now.
    func wait(account: String, address: String?, now: UInt64) -> UInt64? {
        let addressWait = address.flatMap { perAddress.wait(for: $0, now: now) }
        let isOwners = address.map { knownAddresses.isKnown($0, for: account) } ?? false
        let accountWait = isOwners ? nil : perAccount.wait(for: account, now: now)
        return [addressWait, accountWait].compactMap { $0 }.max()
    }

    /// Counts a checked sign-in; returns the wait its failure starts (0: none), for the log.
    @discardableResult
    mutating func record(_ outcome: Outcome, account: String, address: String?, now: UInt64) -> UInt64 {
        switch outcome {
        case .signedIn:
            perAccount.forget(account)
            if let address { knownAddresses.signedIn(account, from: address, now: now) }
            return 0
        case .wrongPassword:
            let addressWait = address.map { perAddress.fail($0, now: now) } ?? 0
            return max(addressWait, perAccount.fail(account, now: now))
        case .unknownUid:
            return address.map { perAddress.fail($0, now: now) } ?? 0
        }
    }
}
