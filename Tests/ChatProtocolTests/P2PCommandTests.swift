import Foundation
import ChatProtocol
import Testing

@Suite struct P2PCommandTests {
    let parser = SessionCommandParser(uid: "111111")
    let sha = String(repeating: "0a", count: 32)
    let token = String(repeating: "f0", count: 16)
    let key = String(repeating: "1e", count: 16)

    private func parse(_ text: String) -> SessionLine { parser.parse(Array(text.utf8)) }

    @Test func commandsParse() {
        #expect(parse("111111 p2p offer 222222 1048576 \(sha) 198.18.1.10:40000 my photo (1).jpg")
                == .command(.p2p(.offer(peer: "222222", size: 1_048_576, sha256: sha, privateEndpoint: "198.18.1.10:40000", name: "my photo (1).jpg"))))
        #expect(parse("111111 p2p accept \(token) [::1]:5000") == .command(.p2p(.accept(token: token, privateEndpoint: "[::1]:5000"))))
        #expect(parse("111111 p2p decline \(token)") == .command(.p2p(.decline(token: token))))
        #expect(LoginCommand(line: Array("p2p relay \(token) \(key)".utf8)) == .p2pRelay(token: token, key: key))
        // The keyless form of earlier clients is still read, so it can be refused with a reply.
        #expect(LoginCommand(line: Array("p2p relay \(token)".utf8)) == .p2pRelay(token: token, key: nil))
    }

    @Test(arguments: [
        "111111 p2p offer 111111 1 SHA 1.2.3.4:5 self.txt",
        "111111 p2p offer 222222 1 abc 1.2.3.4:5 short-sha.txt",
        "111111 p2p offer 222222 x SHA 1.2.3.4:5 size.txt",
        "111111 p2p offer 222222 1 SHA 1.2.3.4:0 port.txt",
        "111111 p2p offer 222222 1 SHA 1.2.3:5 host.txt",
        "111111 p2p offer 222222 1 SHA 256.2.3.4:5 octet.txt",
        "111111 p2p offer 222222 1 SHA 1.2.3.4:5 ../up",
        "111111 p2p offer 222222 1 SHA 1.2.3.4:5",
        "111111 p2p accept TOKEN",
        "111111 p2p accept short 1.2.3.4:5",
        "111111 p2p decline TOKEN extra",
        "111111 p2p dance TOKEN",
    ])
    func malformedCommandsAreRefused(_ template: String) {
        let text = template.replacingOccurrences(of: "SHA", with: sha).replacingOccurrences(of: "TOKEN", with: token)
        #expect(parse(text) == .refused(.wrongInteractCommand), "\(text)")
    }

    @Test func anotherUsersCommandIsDenied() {
        #expect(parse("222222 p2p decline \(token)") == .refused(.permissionDenied))
    }

    @Test func relayNeedsAWellFormedToken() {
        #expect(LoginCommand(line: Array("p2p relay short".utf8)) == nil)
        #expect(LoginCommand(line: Array("p2p relay \(token.uppercased())".utf8)) == nil)
        #expect(LoginCommand(line: Array("p2p relay \(token) short".utf8)) == nil)
        #expect(LoginCommand(line: Array("p2p relay \(token) \(key) extra".utf8)) == nil)
    }

    @Test func endpoints() {
        #expect(Endpoint("203.0.113.5:40000")?.description == "203.0.113.5:40000")
        #expect(Endpoint("[2001:db8::1]:443")?.host == "2001:db8::1")
        #expect(Endpoint("203.0.113.5") == nil)
        #expect(Endpoint("host.example:80") == nil)
        #expect(Endpoint("1.2.3.4:65536") == nil)
        #expect(Endpoint("[]:80") == nil)
    }
}
