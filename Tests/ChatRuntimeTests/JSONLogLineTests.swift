import Foundation
import Logging
@testable import ChatRuntime
import Testing

/// `log_format = "json"`: every line one JSON object, whatever the message and metadata hold.
@Suite struct JSONLogLineTests {
    private func parsed(_ line: JSONLogLine) throws -> [String: Any] {
        let encoded = line.encoded
        #expect(encoded.hasSuffix("}\n"))
        #expect(encoded.dropLast().firstIndex(of: "\n") == nil, "one line")
        let object = try JSONSerialization.jsonObject(with: Data(encoded.utf8))
        return try #require(object as? [String: Any])
    }

    @Test func fieldsAreWhatWasLogged() throws {
        let line = JSONLogLine(time: Date(timeIntervalSince1970: 1_767_225_600.042), level: .notice, label: "chatd.gateway",
                               message: "reload: applied", metadata: ["reload.keys": "log_level", "count": "\(3)"], source: "ChatRuntime")
        #expect(line.encoded == """
            {"time":"2026-01-01T00:00:00.042Z","level":"notice","label":"chatd.gateway","message":"reload: applied",\
            "metadata":{"count":"3","reload.keys":"log_level"},"source":"ChatRuntime"}

            """)
        let object = try parsed(line)
        #expect(object["level"] as? String == "notice")
        #expect(object["metadata"] as? [String: String] == ["count": "3", "reload.keys": "log_level"])
    }

    @Test(arguments: [
        "plain",
        "with \"quotes\" and a \\ backslash",
        "two\nlines\r\nand a\ttab",
        "control \u{0} \u{1} \u{8} \u{c} \u{1b}[31m \u{1f} \u{7f}",
        "non-ASCII: é ü 你好 🙂 \u{2028} \u{2029}",
        "a lone } { ] [ , : and /",
        "",
    ])
    func anyTextRoundTrips(text: String) throws {
        let line = JSONLogLine(time: Date(), level: .error, label: text, message: text,
                               metadata: [text: .string(text), "list": [.string(text), "b"], "map": [text: "x"]], source: text)
        let object = try parsed(line)
        #expect(object["message"] as? String == text)
        #expect(object["label"] as? String == text)
        #expect(object["source"] as? String == text)
        let metadata = try #require(object["metadata"] as? [String: String])
        #expect(metadata[text] == text)
        // Nested values are written as their text: still strings, still valid.
        #expect(metadata["list"] == Logger.MetadataValue.array([.string(text), "b"]).description)
        #expect(!line.encoded.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
    }

    @Test func timesAreUTCToTheMillisecond() {
        #expect(JSONLogLine.timestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(JSONLogLine.timestamp(Date(timeIntervalSince1970: 1_000_000_000.5)) == "2001-09-09T01:46:40.500Z")
    }
}
