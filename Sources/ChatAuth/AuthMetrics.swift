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

    /// Session resumption: tickets handed out, and resumes by what came of them (`ok` and
    /// `unknown` are counted among the sign-ins too, as `ok` and `failed`).
    let ticketsIssued = Counter(label: "chat_resume_tickets_issued_total")
    let resumes = Counter(label: "chat_resumes_total", dimensions: [("result", "ok")])
    let resumesUnknown = Counter(label: "chat_resumes_total", dimensions: [("result", "unknown")])
    let resumesStale = Counter(label: "chat_resumes_total", dimensions: [("result", "stale")])
    let resumesReused = Counter(label: "chat_resumes_total", dimensions: [("result", "reused")])

    func count(_ verdict: ResumptionTicket.Verdict) {
        switch verdict {
        case .resumed: resumes.increment()
        case .unknown: resumesUnknown.increment()
        case .stale: resumesStale.increment()
        case .reused: resumesReused.increment()
        }
    }

    func count(_ outcome: SignInThrottle.Outcome) {
        (outcome == .signedIn ? signInsSucceeded : signInsFailed).increment()
    }
}
