import ChatProtocol
import Testing

@Suite struct IdentifiersTests {
    @Test(arguments: ["123456", "000000", "999999"])
    func validUIDs(_ uid: String) { #expect(Identifiers.isValidUID(uid)) }

    @Test(arguments: ["12345", "1234567", "12345a", "", "１２３４５６", " 12345", "123 45"])
    func invalidUIDs(_ uid: String) { #expect(!Identifiers.isValidUID(uid)) }

    @Test func passwordAlphabetAndLength() {
        #expect(Identifiers.isValidWirePassword("abc_XYZ_019"))
        #expect(Identifiers.isValidWirePassword(String(repeating: "a", count: 128)))
        #expect(!Identifiers.isValidWirePassword(String(repeating: "a", count: 129)))
        #expect(!Identifiers.isValidWirePassword(""))
        #expect(!Identifiers.isValidWirePassword("pass word"))
        #expect(!Identifiers.isValidWirePassword("pass-word"))
        #expect(!Identifiers.isValidWirePassword("pässword"))
    }

    @Test(arguments: ["202004131702", "202402290000", "200002291159", "199912312359"])
    func realTimestamps(_ timestamp: String) { #expect(Identifiers.isValidTimestamp(timestamp)) }

    @Test(arguments: ["202302290000", "190002291200", "202013010000", "202000010000", "202004310000",
                      "202004132400", "202004131760", "20200413170", "2020041317021", "2020-4131702", "000001010000"])
    func impossibleTimestamps(_ timestamp: String) { #expect(!Identifiers.isValidTimestamp(timestamp)) }

    @Test func sizes() {
        #expect(Identifiers.parseSize("0") == 0)
        #expect(Identifiers.parseSize("1048576") == 1_048_576)
        #expect(Identifiers.parseSize("9223372036854775807") == Int64.max)
        #expect(Identifiers.parseSize("9999999999999999999") == Int64.max)
        #expect(Identifiers.parseSize("12345678901234567890") == nil)
        #expect(Identifiers.parseSize("") == nil)
        #expect(Identifiers.parseSize("-1") == nil)
        #expect(Identifiers.parseSize("+1") == nil)
        #expect(Identifiers.parseSize("1e3") == nil)
    }

    @Test func utf8ChecksEveryPosition() {
        #expect(Identifiers.isValidUTF8([]))
        #expect(Identifiers.isValidUTF8(Array("plain ascii text, longer than eight bytes".utf8)))
        #expect(Identifiers.isValidUTF8(Array("日本語 and ascii".utf8)))
        // A stray continuation byte at each position of a 20-byte line, in and out of the 8-byte words.
        for position in 0..<20 {
            var bytes = Array("abcdefghijklmnopqrst".utf8)
            bytes[position] = 0x80
            #expect(!Identifiers.isValidUTF8(bytes))
        }
    }
}
