import ChatRuntime
import Testing

/// Which client ports a configuration can serve: TLS needs both PEM files, and turning the
/// plaintext port off needs TLS on.
@Suite struct ClientPortsTests {
    private func configuration(port: Int = 7890, certificate: String = "", key: String = "") -> ChatConfiguration {
        var configuration = ChatConfiguration()
        configuration.port = port
        configuration.tlsCertificate = certificate
        configuration.tlsPrivateKey = key
        return configuration
    }

    @Test func plaintextAloneOrWithTLSIsServed() {
        #expect(configuration().clientPortsProblem == nil)
        #expect(!configuration().servesTLS)
        #expect(configuration(certificate: "c.pem", key: "k.pem").clientPortsProblem == nil)
        #expect(configuration(certificate: "c.pem", key: "k.pem").servesTLS)
        #expect(configuration(port: 0, certificate: "c.pem", key: "k.pem").clientPortsProblem == nil)
    }

    @Test func oneFileWithoutTheOtherOrNoPortAtAllIsRefused() {
        #expect(configuration(certificate: "c.pem").clientPortsProblem?.contains("go together") == true)
        #expect(configuration(key: "k.pem").clientPortsProblem?.contains("go together") == true)
        #expect(configuration(port: 0).clientPortsProblem?.contains("listen nowhere") == true)
        #expect(configuration(port: 7891, certificate: "c.pem", key: "k.pem").clientPortsProblem?.contains("both 7891") == true)
    }
}
