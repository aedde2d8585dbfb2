@testable import ChatBus
import Testing

/// Which auth worker a request goes to first: by its uid, the same in every process, and
/// spread over the workers.
@Suite struct AuthWorkersTests {
    @Test func everyAuthRequestIsAboutAUid() {
        let requests: [BusMessage] = [
            .signUp(uid: "1", password: "p"), .signIn(uid: "1", password: "p"), .signInFrom(uid: "1", password: "p", address: "a"),
            .signUpFrom(uid: "1", password: "p", address: "a"), .userExists(uid: "1"), .reserveStorage(uid: "1", bytes: 5),
            .releaseStorage(uid: "1", bytes: 5), .addFriend(owner: "1", friend: "2"), .listFriends(owner: "1"),
        ]
        for request in requests { #expect(AuthWorkers.uid(of: request) == "1", "\(request.kind)") }
    }

    @Test func uidsSpreadOverTheWorkersAndStayPut() {
        var counts = [0, 0, 0]
        for number in 100_000..<103_000 { counts[AuthWorkers.worker(for: String(number), among: 3)] += 1 }
        #expect(counts.allSatisfy { (800...1200).contains($0) }, "\(counts)")
        // Fixed by the uid alone: every gateway and router sends one account to the same worker.
        #expect(AuthWorkers.worker(for: "123456", among: 3) == AuthWorkers.worker(for: "123456", among: 3))
        #expect(AuthWorkers.worker(for: "123456", among: 1) == 0)
    }
}
