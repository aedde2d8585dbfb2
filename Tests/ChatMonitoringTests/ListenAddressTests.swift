import ChatMonitoring
import Testing

@Suite struct ListenAddressTests {
    @Test func hostAndPort() throws {
        #expect(try ListenAddress.parse("127.0.0.1:9464") == ListenAddress(host: "127.0.0.1", port: 9464))
        #expect(try ListenAddress.parse("[::1]:9464") == ListenAddress(host: "::1", port: 9464))
        #expect(try ListenAddress.parse("localhost:1") == ListenAddress(host: "localhost", port: 1))
    }

    @Test func emptyIsOff() throws {
        #expect(try ListenAddress.parse("") == nil)
    }

    @Test(arguments: ["9464", ":9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:http"])
    func anythingElseIsAConfigurationError(_ text: String) {
        #expect(throws: (any Error).self) { try ListenAddress.parse(text) }
    }
}
