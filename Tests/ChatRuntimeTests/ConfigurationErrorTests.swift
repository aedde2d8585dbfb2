import Foundation
@testable import ChatRuntime
import Testing

/// What an operator reads when chatd refuses its configuration (ArgumentParser prints the
/// description after `Error: `).
@Suite struct ConfigurationErrorTests {
    @Test func messagesSayWhereAndWhat() {
        #expect("\(ConfigurationError.syntax(line: 2, reason: "expected key = value"))" == "line 2: expected key = value")
        #expect("\(ConfigurationError.unknownSetting(key: "gateway.prot"))" == "gateway.prot: unknown setting")
        #expect("\(ConfigurationError.wrongValue(key: "gateway.port", expected: .integer(in: 0...65535)))"
            == "gateway.port: expected an integer in 0...65535")
        #expect("\(ConfigurationError.wrongValue(key: "auth.scrypt_n", expected: .powerOfTwo(in: 2...16)))"
            == "auth.scrypt_n: expected a power of two in 2...16")
        #expect("\(ConfigurationError.wrongValue(key: "storage.endpoints", expected: .nonEmptyStrings))"
            == "storage.endpoints: expected a non-empty array of strings")
        #expect("\(ConfigurationError("storage index 3 has no endpoint in storage.endpoints"))"
            == "storage index 3 has no endpoint in storage.endpoints")
    }

    @Test func overridesAreReadAsInTheFile() throws {
        let options = try ConfigurationOptions.parse([
            "--set", "gateway.port=7_000", "--set", "storage.endpoints=[\"tcp://a:1\"]", "--set", "log_level=\"debug\"",
        ])
        let configuration = try options.resolve()
        #expect(configuration.port == 7000)
        #expect(configuration.storageEndpoints == ["tcp://a:1"])
        #expect(configuration.logLevel == "debug")
    }

    @Test func badOverridesSayWhichAndWhy() throws {
        #expect(throws: ConfigurationError.overrideWithoutValue(argument: "gateway.port")) {
            try ConfigurationOptions.parse(["--set", "gateway.port"]).resolve()
        }
        let unquoted = #expect(throws: ConfigurationError.self) {
            try ConfigurationOptions.parse(["--set", "log_level=debug"]).resolve()
        }
        guard case .unreadableOverride(let key, let text, _) = unquoted else {
            Issue.record("expected unreadableOverride, got \(String(describing: unquoted))")
            return
        }
        #expect(key == "log_level" && text == "debug")
        #expect(throws: ConfigurationError.unreadableOverride(key: "gateway.port", text: "1\nlog_level = \"debug\"", reason: "more than one value")) {
            try ConfigurationOptions.parse(["--set", "gateway.port=1\nlog_level = \"debug\""]).resolve()
        }
        #expect(unquoted?.description.contains("--set log_level='\"text\"'") == true, "says how to quote a string")
        #expect(throws: ConfigurationError.wrongValue(key: "gateway.port", expected: .integer(in: 0...65535))) {
            try ConfigurationOptions.parse(["--set", "gateway.port=70000"]).resolve()
        }
    }

    @Test func anUnreadableFileIsNamed() throws {
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigurationOptions.parse(["--config", "/nonexistent/chatd.toml"]).resolve()
        }
        guard case .unreadableFile(let path, _) = error else {
            Issue.record("expected unreadableFile, got \(String(describing: error))")
            return
        }
        #expect(path == "/nonexistent/chatd.toml")
        #expect(error?.description.hasPrefix("cannot read config file /nonexistent/chatd.toml: ") == true)
    }
}
