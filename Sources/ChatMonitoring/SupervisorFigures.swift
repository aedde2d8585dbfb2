import ChatSupervisor

/// The supervisor's own figures, in Prometheus's text format: read from its children's states
/// when a page is asked for, since the supervisor has no metrics registry of its own (its
/// children's figures come to it as text).
public enum SupervisorFigures {
    public static func text(_ states: [ChildState]) -> String {
        var text = """
            # HELP chat_child_restarts_total Restarts of the child since the supervisor started.
            # TYPE chat_child_restarts_total counter

            """
        for state in states { text += "chat_child_restarts_total{child=\"\(state.name)\"} \(state.restarts)\n" }
        text += """
            # HELP chat_child_up 1 while the child is running, 0 while it backs off or is stopped.
            # TYPE chat_child_up gauge

            """
        for state in states {
            let up = if case .running = state.phase { 1 } else { 0 }
            text += "chat_child_up{child=\"\(state.name)\"} \(up)\n"
        }
        return text
    }
}
