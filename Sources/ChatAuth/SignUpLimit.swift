import ChatRuntime

/// Accounts signed up per client address. Each new account comes with fresh per-user limits
/// (a full message burst, its own storage quota), so without this one address could make
/// those limits as large as it liked by signing up again and again.
///
/// An address may sign up `perAddress` accounts; from then on its sign-ups are refused
/// unchecked (nothing looked up or hashed) until it has signed up none for `window`, when it
/// starts afresh. Refused rather than slowed down as failed sign-ins are: growing waits end
/// at a cap, after which an address still makes an account per cap for ever, while a refusal
/// for the window bounds it to about `perAddress` a window. Only sign-ups that create an
/// account, or that name a taken uid (else sign-up would list uids unthrottled), count;
/// refusals do not, so a refused address's wait does not grow.
///
/// Counted with `FailureCounts`: `perAddress - 1` free, then a wait of the whole window (the
/// one that fills the allowance starts the wait, so the next is the first refused).
///
/// Used on auth's bus thread only; times are monotonic nanoseconds, passed in.
struct SignUpLimit {
    private(set) var perAddress: FailureCounts
    /// `perAddress` 0: no limit, nothing counted.
    private(set) var isOff: Bool

    init(perAddress: Int, window: UInt64, maxAddresses: Int) {
        isOff = perAddress == 0
        self.perAddress = FailureCounts(policy: FailureCounts.Policy(free: max(0, perAddress - 1), firstDelay: window, maxDelay: window,
                                                                     forgetAfter: window, maxKeys: maxAddresses))
    }

    init(_ configuration: ChatConfiguration) {
        self.init(perAddress: configuration.freeSignUpsPerAddress,
                  window: UInt64(configuration.signUpsForgottenAfterSeconds) * 1_000_000_000,
                  maxAddresses: configuration.maxTrackedSignInKeys)
    }

    /// Counts by the allowance and window of `configuration` from now on (a reload), keeping
    /// every sign-up counted; how many addresses are remembered stays as it started.
    mutating func adopt(_ configuration: ChatConfiguration) {
        let new = SignUpLimit(configuration)
        isOff = new.isOff
        perAddress.policy = new.perAddress.policy.keeping(maxKeys: perAddress.policy.maxKeys)
    }

    /// How long sign-ups from `address` (nil: not given, never limited) stay refused; nil
    /// when one may go ahead now.
    func wait(address: String?, now: UInt64) -> UInt64? {
        guard !isOff else { return nil }
        return address.flatMap { perAddress.wait(for: $0, now: now) }
    }

    /// Counts an account created from `address`; returns the wait it starts (0: none), for the log.
    @discardableResult
    mutating func signedUp(address: String?, now: UInt64) -> UInt64 {
        guard !isOff else { return 0 }
        return address.map { perAddress.fail($0, now: now) } ?? 0
    }
}
