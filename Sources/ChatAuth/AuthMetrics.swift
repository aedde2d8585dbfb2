import CoreMetrics

/// Auth's figures, made once per process: one counter per outcome, so a sign-in costs one
/// atomic increment and no lookup by label.
struct AuthMetrics {
    let signInsSucceeded = Counter(label: "chat_sign_ins_total", dimensions: [("result", "ok")])
    /// Unknown uid or wrong password: the password was checked, or there was none to check.
    let signInsFailed = Counter(label: "chat_sign_ins_total", dimensions: [("result", "failed")])
    /// Refused unchecked while the address or account must wait after failures.
    let signInsThrottled = Counter(label: "chat_sign_ins_total", dimensions: [("result", "throttled")])
    let signUpsSucceeded = Counter(label: "chat_sign_ups_total", dimensions: [("result", "ok")])
    let signUpsTaken = Counter(label: "chat_sign_ups_total", dimensions: [("result", "taken")])
    /// Refused unchecked while the address has used up its sign-ups.
    let signUpsThrottled = Counter(label: "chat_sign_ups_total", dimensions: [("result", "throttled")])

    /// Session resumption: tickets handed out, and sign-ins made with one (counted among
    /// the sign-ins too).
    let ticketsIssued = Counter(label: "chat_resume_tickets_issued_total")
    let resumes = Counter(label: "chat_resumes_total")

    func count(_ outcome: SignInThrottle.Outcome) {
        (outcome == .signedIn ? signInsSucceeded : signInsFailed).increment()
    }
}
