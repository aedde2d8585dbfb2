@testable import ChatAuth
import Testing

@Suite struct HashingAdmissionTests {
    @Test func takesOnAtMostTheLimitAndFreesAPlaceWhenOneIsDone() {
        var admission = HashingAdmission(maxQueued: 2, requesterPatienceNanos: 1_000)
        let first = admission.admit(), second = admission.admit(), third = admission.admit()
        #expect([first, second, third] == [true, true, false])
        admission.finished()
        #expect(admission.queued == 1)
        let fourth = admission.admit(), fifth = admission.admit()
        #expect([fourth, fifth] == [true, false])
    }

    @Test func aHashIsStaleOnceItsRequesterStoppedWaiting() {
        let admission = HashingAdmission(maxQueued: 1, requesterPatienceNanos: 5_000)
        #expect(!admission.isStale(receivedAt: 10_000, now: 10_000))
        #expect(!admission.isStale(receivedAt: 10_000, now: 14_999))
        #expect(admission.isStale(receivedAt: 10_000, now: 15_000))
        // A clock that seems to run backwards never makes a request stale.
        #expect(!admission.isStale(receivedAt: 10_000, now: 9_000))
    }
}
