/// What the client says when a text's fate is unknown. `Service unavailable` for a text means
/// only that no answer came in time: the text may be stored and pushed all the same, so
/// sending it again may deliver it twice. The client does not resend; it tells the user how
/// to find out first.
enum UnsureSend {
    static func notice(peer: String) -> String {
        let peer = TerminalText.escaped(peer)
        return "Service unavailable: the text may have been stored all the same; check /history \(peer) before sending it again"
    }
}
