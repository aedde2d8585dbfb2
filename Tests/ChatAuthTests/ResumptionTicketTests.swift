@testable import ChatAuth
import Testing

/// What a `resume` comes to, by the ticket as auth kept it and the account as it is now.
@Suite struct ResumptionTicketTests {
    private let now: Int64 = 1_000_000
    private let salt: [UInt8] = [1, 2, 3]

    private func ticket(_ state: ResumptionTicket.State, expires: Int64? = nil, salt: [UInt8]? = nil) -> ResumptionTicket {
        ResumptionTicket(family: "0123456789abcdef", salt: salt ?? self.salt, expires: expires ?? now + 60, state: state)
    }

    @Test func aGoodTicketResumesInItsFamily() {
        #expect(ResumptionTicket.verdict(on: ticket(.good), accountSalt: salt, now: now) == .resumed(family: "0123456789abcdef"))
    }

    /// Nobody's fault but the owner's clock or password: refused, not counted as a guess.
    @Test func expiredRevokedOrOlderThanThePasswordIsStale() {
        #expect(ResumptionTicket.verdict(on: ticket(.good, expires: now), accountSalt: salt, now: now) == .stale)
        #expect(ResumptionTicket.verdict(on: ticket(.revoked), accountSalt: salt, now: now) == .stale)
        #expect(ResumptionTicket.verdict(on: ticket(.good, salt: [9]), accountSalt: salt, now: now) == .stale)
    }

    @Test func aUsedTicketAgainIsReuse() {
        #expect(ResumptionTicket.verdict(on: ticket(.used), accountSalt: salt, now: now) == .reused(family: "0123456789abcdef"))
        // Even expired by now: whoever holds it had it before.
        #expect(ResumptionTicket.verdict(on: ticket(.used, expires: now - 1), accountSalt: salt, now: now) == .reused(family: "0123456789abcdef"))
    }

    @Test func neverIssuedOrNoSuchAccountIsUnknown() {
        #expect(ResumptionTicket.verdict(on: nil, accountSalt: salt, now: now) == .unknown)
        #expect(ResumptionTicket.verdict(on: ticket(.good), accountSalt: nil, now: now) == .unknown)
    }
}
