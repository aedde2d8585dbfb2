import ChatTestSupport
import Foundation
import Testing

/// Two gateways on one router: texts between users signed in on different gateways go as a
/// push to the other gateway and an answer to the sender's, while texts within one gateway
/// carry their push in the answer (`deliveredPush`).
@Suite struct TwoGatewayTests {
    let system = ChatSystem.shared

    @Test func textsCrossGatewaysBothWaysAndKeepOneHistory() throws {
        let (gateway, port) = try system.startExtraGateway()
        defer { #expect(gateway.stop(with: SIGTERM, within: .seconds(20)), "the extra gateway did not exit on SIGTERM; it was killed") }
        let (alice, a) = try system.signedInUser()
        let bob = try TestClient(port: port), b = TestUIDs.make()
        try bob.signUpAndIn(b)

        try alice.send("\(a) to \(b) 202004131702 text\nover there\n")
        #expect(try alice.readLine() == "ok")
        #expect(try bob.readLine() == "\(a) to \(b) 202004131702 text")
        #expect(try bob.readLine() == "over there")

        try bob.send("\(b) to \(a) 202004131703 text\nand back\n")
        #expect(try bob.readLine() == "ok")
        #expect(try alice.readLine() == "\(b) to \(a) 202004131703 text")
        #expect(try alice.readLine() == "and back")

        // A text within the extra gateway: its push rides in the router's answer.
        let carol = try TestClient(port: port), c = TestUIDs.make()
        try carol.signUpAndIn(c)
        #expect(try carol.ask("\(c) to \(b) 202004131704 text\nsame gateway") == "ok")
        #expect(try bob.readLine() == "\(c) to \(b) 202004131704 text")
        #expect(try bob.readLine() == "same gateway")

        let history = Array("\(a) to \(b) 202004131702 text\nover there\n\(b) to \(a) 202004131703 text\nand back\n".utf8)
        try alice.sendLine("\(a) history \(b) all")
        #expect(try alice.readReply() == "server_data_size\(history.count)")
        try alice.sendLine("ok")
        #expect(try alice.read(count: history.count) == history)
    }
}
