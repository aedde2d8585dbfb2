import ChatBus
import Testing
import ZeroMQ

/// The ZAP handler's decision: only a CURVE connection with the system's key is let in.
@Suite struct BusAdmissionTests {
    static let system = try! CurveKeyPair.generate()
    static let stranger = try! CurveKeyPair.generate()
    let admission = BusAdmission(systemKey: CurveKeyPair.decode(Self.system.publicKey)!)

    private func request(mechanism: String = "CURVE", key: CurveKeyPair? = Self.system) -> [[UInt8]] {
        [Array("1.0".utf8), Array("7".utf8), Array("chat".utf8), Array("198.51.100.4".utf8), [], Array(mechanism.utf8)]
            + (key.map { [CurveKeyPair.decode($0.publicKey)!] } ?? [])
    }

    @Test func theSystemsKeyIsAdmitted() {
        let decision = admission.decide(request())
        #expect(decision.refusal == nil)
        #expect(decision.reply == [Array("1.0".utf8), Array("7".utf8), Array("200".utf8), Array("OK".utf8), [], []])
    }

    @Test func anotherKeyIsRefusedWithItsAddress() {
        let decision = admission.decide(request(key: Self.stranger))
        #expect(decision.reply[2] == Array("400".utf8))
        #expect(decision.reply[1] == Array("7".utf8), "the request's id comes back")
        #expect(decision.refusal?.address == "198.51.100.4")
        #expect(decision.refusal?.reason == "a key that is not the system's")
    }

    @Test func anotherMechanismIsRefused() {
        let decision = admission.decide(request(mechanism: "NULL", key: nil))
        #expect(decision.reply[2] == Array("400".utf8))
        #expect(decision.refusal?.reason == "mechanism NULL, not CURVE")
    }

    @Test func malformedRequestsAreRefused() {
        for frames in [[], [Array("1.0".utf8)], [Array("2.0".utf8), [1], [], [], [], Array("CURVE".utf8), [1]],
                       request() + [[9]]] {
            let decision = admission.decide(frames)
            #expect(decision.refusal != nil, "\(frames)")
            #expect(decision.reply.count == 6 && decision.reply[2] != Array("200".utf8))
        }
    }

    /// A key pair read back from its secret half is the same pair; anything else is refused.
    @Test func keyPairsComeBackFromTheirSecretHalf() throws {
        #expect(try CurveKeyPair(secretKey: Self.system.secretKey) == Self.system)
        #expect(throws: CurveKeyPair.Invalid.self) { try CurveKeyPair(secretKey: "not a key") }
        #expect(throws: CurveKeyPair.Invalid.self) { try CurveKeyPair(secretKey: String(repeating: "~", count: 40)) }
    }
}
