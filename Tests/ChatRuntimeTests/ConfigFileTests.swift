import Foundation
@testable import ChatRuntime
import Testing

@Suite struct ConfigFileTests {
    @Test func parsesSectionsAndValues() throws {
        let values = try ConfigFile.parse("""
            # comment
            data_dir = "data # not a comment"
            [gateway]
            port = 7_890   # trailing comment
            [storage]
            endpoints = ["tcp://a:1", "tcp://b:2"]
            [x]
            on = true
            """)
        #expect(values["data_dir"] == .string("data # not a comment"))
        #expect(values["gateway.port"] == .integer(7890))
        #expect(values["storage.endpoints"] == .strings(["tcp://a:1", "tcp://b:2"]))
        #expect(values["x.on"] == .boolean(true))
    }

    @Test func errorsNameTheLine() {
        #expect(throws: ConfigurationError.syntax(line: 2, reason: "expected key = value")) {
            try ConfigFile.parse("a = 1\nbroken\n")
        }
        #expect(throws: ConfigurationError.syntax(line: 1, reason: "unterminated string")) { try ConfigFile.parse("a = \"open") }
        #expect(throws: ConfigurationError.syntax(line: 3, reason: "bad section header")) { try ConfigFile.parse("a = 1\n\n[open") }
    }

    @Test func configurationAppliesAndValidates() throws {
        var configuration = ChatConfiguration()
        try configuration.apply("gateway.port", .integer(1234))
        try configuration.apply("auth.scrypt_n", .integer(1024))
        try configuration.apply("storage.endpoints", .strings(["tcp://127.0.0.1:1"]))
        #expect(configuration.port == 1234)
        #expect(configuration.scryptN == 1024)
        #expect(configuration.storageEndpoints == ["tcp://127.0.0.1:1"])
        #expect(throws: ConfigurationError.wrongValue(key: "auth.scrypt_n", expected: .powerOfTwo(in: 2...(1 << 24)))) {
            try configuration.apply("auth.scrypt_n", .integer(1000))
        }
        #expect(throws: ConfigurationError.wrongValue(key: "gateway.port", expected: .integer(in: 0...65535))) {
            try configuration.apply("gateway.port", .integer(70000))
        }
        #expect(throws: ConfigurationError.wrongValue(key: "gateway.port", expected: .integer(in: 0...65535))) {
            try configuration.apply("gateway.port", .string("80"))
        }
        #expect(throws: ConfigurationError.unknownSetting(key: "no.such")) { try configuration.apply("no.such", .integer(1)) }
        #expect(throws: ConfigurationError.wrongValue(key: "storage.endpoints", expected: .nonEmptyStrings)) {
            try configuration.apply("storage.endpoints", .strings([]))
        }
        #expect(configuration.port == 1234, "a refused value leaves the setting as it was")
    }

    @Test func defaultsAreTheStrongEmbeddedOnes() {
        let defaults = ChatConfiguration()
        #expect(defaults.port == 7890)
        #expect(defaults.scryptN == 1 << 17 && defaults.scryptR == 8 && defaults.scryptP == 1)
        #expect(defaults.authEndpoint.hasPrefix("tcp://"))
    }

    @Test func shippedConfigFileMatchesTheDefaults() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("ops/chatd.toml").path
        var fromFile = ChatConfiguration()
        for (key, value) in try ConfigFile.parse(String(contentsOfFile: path, encoding: .utf8)) {
            try fromFile.apply(key, value)
        }
        #expect(fromFile == ChatConfiguration())
    }
}
