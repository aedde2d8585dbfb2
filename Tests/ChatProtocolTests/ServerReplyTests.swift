import ChatProtocol
import Testing

/// The reply bytes are the contract: typos and double spaces included.
@Suite struct ServerReplyTests {
    @Test func spelledAsTheProtocolSpellsThem() {
        let expected: [(ServerReply, String)] = [
            (.signUpSucceeded, "signup successfully\n"),
            (.uidAlreadyExists, "uid already exists\n"),
            (.signInSucceeded, "signin successfully\n"),
            (.uidNotExits, "uid not exits\n"),
            (.wrongPassword, "Wrong Password\n"),
            (.wrongSignCommand, "Wrong sign command\n"),
            (.wrongInteractCommand, "Wrong  interact command\n"),
            (.permissionDenied, "Permission denied\n"),
            (.ok, "ok\n"),
            (.targetUserOffline, "Target user offline\n"),
            (.fileTooLarge, "File too large\n"),
            (.invalidFileName, "Invalid file name\n"),
            (.noHistoryYet, "you two have no history yet\n"),
            (.noSuchFile, "No such file\n"),
            (.serviceUnavailable, "Service unavailable\n"),
            (.messageTooLong, "Message too long\n"),
            (.signedInElsewhere, "Signed in elsewhere\n"),
            (.dataSize(1234), "server_data_size1234\n"),
            (.friends([]), "friends\n"),
            (.friends([("111111", true), ("222222", false)]), "friends 111111:online 222222:offline\n"),
        ]
        for (reply, line) in expected {
            #expect(reply.line == Array(line.utf8), "\(reply)")
        }
    }
}
