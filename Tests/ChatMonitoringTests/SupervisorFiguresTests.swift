import ChatMonitoring
import ChatSupervisor
import ChatTelemetry
import Testing

@Suite struct SupervisorFiguresTests {
    @Test func restartsAndUpPerChild() {
        let policy = RestartPolicy(maxRestarts: 3, windowSeconds: 60, maxBackoffSeconds: 30)
        var auth = ChildState(name: "auth", policy: policy)
        auth.started(pid: 10, at: 0)
        _ = auth.exited(at: 1)
        auth.started(pid: 11, at: 2)
        _ = auth.exited(at: 3)
        var router = ChildState(name: "router", policy: policy)
        router.started(pid: 12, at: 0)
        let text = SupervisorFigures.text([auth, router])

        let samples = MetricsExposition.samples(text).map { "\($0.name) \($0.labels["child"] ?? "-") \($0.value)" }
        #expect(samples == [
            "chat_child_restarts_total auth 2.0",
            "chat_child_restarts_total router 0.0",
            "chat_child_up auth 0.0",
            "chat_child_up router 1.0",
        ])
        #expect(text.contains("# TYPE chat_child_restarts_total counter\n"))
        #expect(text.contains("# TYPE chat_child_up gauge\n"))
    }
}
