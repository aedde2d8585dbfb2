/// A session resumption ticket as auth keeps it (under its SHA-256): good until used, revoked,
/// superseded or expired, then kept as a tombstone for another ticket lifetime, so that auth
/// can tell a ticket presented twice (stolen, or the reply to its resume lost) or past its
/// time from one never issued.
struct ResumptionTicket: Equatable {
    enum State: Int64 {
        case good = 0, used = 1
        /// Its family was revoked (`offline`, or a used ticket of it presented again).
        case revoked = 2
        /// A newer ticket of its family was issued, or the user holds too many.
        case superseded = 3

        /// As stored; an unknown value (a newer chatd's) is taken as no longer good.
        init(stored: Int64) {
            self = State(rawValue: stored) ?? .revoked
        }
    }

    /// One device's chain of tickets: each resume's next ticket stays in its family.
    let family: String
    /// The account's password salt when it was issued: a new password has another.
    let salt: [UInt8]
    /// Unix seconds.
    let expires: Int64
    let state: State

    /// What a `resume` with a ticket comes to.
    enum Verdict: Equatable {
        /// Signed in; the session carries on the family.
        case resumed(family: String)
        /// Never issued (or long forgotten), or another account's: a guess, counted as a wrong
        /// password is.
        case unknown
        /// Issued, but no longer good (expired, revoked, superseded, or from before a new
        /// password): its owner's, not a guess; refused without counting.
        case stale
        /// Used already: the ticket was copied, or its resume's reply was lost. Whoever holds
        /// its family's newer ticket may be a thief, so the whole family is revoked (and the
        /// attempt counted as a failed sign-in).
        case reused(family: String)
    }

    /// `ticket` as it was before this resume (nil if unknown), against the account's current
    /// password salt (nil if there is no such account).
    static func verdict(on ticket: ResumptionTicket?, accountSalt: [UInt8]?, now: Int64) -> Verdict {
        guard let ticket, let accountSalt else { return .unknown }
        switch ticket.state {
        case .used: return .reused(family: ticket.family)
        case .revoked, .superseded: return .stale
        case .good: return ticket.expires > now && ticket.salt == accountSalt ? .resumed(family: ticket.family) : .stale
        }
    }
}
