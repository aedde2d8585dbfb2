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
        #expect(syntaxErrorLine("a = 1\nbroken\n") == 2)
        #expect(syntaxErrorLine("a = 1\nb = \"open") == 2)
        #expect(syntaxErrorLine("a = 1\n\n[open") == 3)
        #expect(syntaxErrorLine("a = 99999999999999999999") == 1)
    }

    @Test func aKeySetTwiceIsRefusedWithTheLineOfTheSecond() {
        #expect(throws: ConfigurationError.duplicateKey(line: 4, reason: "cannot redefine existing integer 'port'")) {
            try ConfigFile.parse("[gateway]\nport = 1\nhost = \"x\"\nport = 2\n")
        }
        #expect(throws: ConfigurationError.duplicateKey(line: 2, reason: "cannot redefine existing string 'log_level'")) {
            try ConfigFile.parse("log_level = \"info\"\nlog_level = \"debug\"")
        }
        // A section opened again could set a key twice unseen; TOML refuses it outright.
        #expect(throws: ConfigurationError.duplicateKey(line: 5, reason: "cannot redefine existing table 'gateway'")) {
            try ConfigFile.parse("[gateway]\nport = 1\n[auth]\nscrypt_n = 1024\n[gateway]\nport = 3\n")
        }
        #expect(throws: ConfigurationError.duplicateKey(line: 2, reason: "cannot redefine existing integer 'gateway.port'")) {
            try ConfigFile.parse("gateway.port = 1\ngateway.port = 2")
        }
        let error = #expect(throws: ConfigurationError.self) { try ConfigFile.parse("[gateway]\nport = 1\nport = 2") }
        #expect(error?.description == "line 3: duplicate key (cannot redefine existing integer 'port')")
    }

    @Test func tomlBeyondTheOldSubsetReadsAsTOML() throws {
        let values = try ConfigFile.parse("""
            gateway.port = 7000
            log_level = 'debug'
            [storage]
            endpoints = [
                "tcp://a:1",  # first worker
                "tcp://b:2",
            ]
            """)
        #expect(values["gateway.port"] == .integer(7000))
        #expect(values["log_level"] == .string("debug"))
        #expect(values["storage.endpoints"] == .strings(["tcp://a:1", "tcp://b:2"]))
    }

    @Test func valuesNoSettingTakesAreRefusedWithWhatItExpects() throws {
        let values = try ConfigFile.parse("[gateway]\nport = 7890.5\n[storage]\nendpoints = [1, 2]\n")
        #expect(values["gateway.port"] == .unsupported("floating-point number"))
        var configuration = ChatConfiguration()
        #expect(throws: ConfigurationError.wrongValue(key: "gateway.port", expected: .integer(in: 0...65535))) {
            try configuration.apply("gateway.port", values["gateway.port"]!)
        }
        #expect(throws: ConfigurationError.wrongValue(key: "storage.endpoints", expected: .nonEmptyStrings)) {
            try configuration.apply("storage.endpoints", values["storage.endpoints"]!)
        }
    }

    /// The line of the syntax error `text` raises, nil if it raises none or another error.
    private func syntaxErrorLine(_ text: String) -> Int? {
        do {
            _ = try ConfigFile.parse(text)
        } catch {
            if case .syntax(let line, _) = error { return line }
        }
        return nil
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
