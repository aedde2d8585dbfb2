@testable import ChatTelemetry
import Testing

@Suite struct MetricsExpositionTests {
    @Test func readsSamplesWithAndWithoutLabels() {
        let samples = MetricsExposition.samples("""
            # TYPE chat_texts_stored_total counter
            chat_texts_stored_total 12
            chat_bus_request_seconds_bucket{worker="storage-0",le="+Inf"} 3
            chat_label_escapes{text="a\\"b\\\\c\\nd"} 1.5
            not a sample at all
            """)
        #expect(samples == [
            .init(name: "chat_texts_stored_total", labels: [:], value: 12),
            .init(name: "chat_bus_request_seconds_bucket", labels: ["worker": "storage-0", "le": "+Inf"], value: 3),
            .init(name: "chat_label_escapes", labels: ["text": "a\"b\\c\nd"], value: 1.5),
        ])
    }

    @Test func mergesFamiliesOfSeveralProcessesUnderOneHeader() {
        let page = MetricsExposition.merged([
            (process: "storage-0", metrics: "# TYPE chat_commits_total counter\nchat_commits_total 3\n"),
            (process: "storage-1", metrics: "# TYPE chat_commits_total counter\nchat_commits_total 4\n# TYPE chat_up gauge\nchat_up{x=\"1\"} 1\n"),
        ])
        #expect(page == """
            # TYPE chat_commits_total counter
            chat_commits_total{process="storage-0"} 3
            chat_commits_total{process="storage-1"} 4
            # TYPE chat_up gauge
            chat_up{process="storage-1",x="1"} 1

            """)
    }
}

extension MetricsExpositionTests {
    /// Reports come from whoever reaches the telemetry endpoint: lines Prometheus would refuse
    /// (and with them the whole page) are left out, the rest kept.
    @Test func leavesOutSamplesPrometheusWouldRefuse() {
        let page = MetricsExposition.merged([(process: "gateway", metrics: """
            # TYPE chat_ok counter
            chat_ok 1
              chat_indented 2
            chat_spoofed{process="auth"} 3
            bad-name 4
            chat_bad_label{bad-key="x"} 5
            9starts_with_a_digit 6
            chat_twice{a="1",a="2"} 7
            chat_hex 0x10
            chat_trailing 1 junk
            chat_stamped 8 1700000000000
            # TYPE chat_bogus bogus
            chat_bogus 9
            """)])
        #expect(page == """
            # TYPE chat_ok counter
            chat_ok{process="gateway"} 1
            chat_indented{process="gateway"} 2
            chat_stamped{process="gateway"} 8
            chat_bogus{process="gateway"} 9

            """)
    }
}
