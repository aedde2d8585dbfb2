@testable import ChatTelemetry
import Testing

@Suite struct TelemetryReportTests {
    @Test func roundTrips() {
        let report = TelemetryReport(process: "storage-1", pid: 4242, metrics: "# TYPE a counter\na 1\n")
        #expect(TelemetryReport(decoding: report.encoded()) == report)
    }

    @Test(arguments: [
        "chatd-telemetry 1 storage-1 42",            // no newline
        "chatd-telemetry 2 storage-1 42\n",          // another version
        "chatd-telemetry 1 storage 1 42\n",          // a space in the name
        "chatd-telemetry 1 ../x 42\n",               // characters a name never has
        "chatd-telemetry 1 gateway -1\n",            // a pid that is not one
        "chatd-telemetry 1 gateway 99999999999\n",   // a pid out of range
        "other 1 gateway 42\n",
    ])
    func refusesWhatIsNotAReport(_ text: String) {
        #expect(TelemetryReport(decoding: Array(text.utf8)) == nil)
    }

    @Test func refusesTextThatIsNotUTF8() {
        #expect(TelemetryReport(decoding: Array("chatd-telemetry 1 gateway 42\n".utf8) + [0xFF, 0xFE]) == nil)
    }
}
