/// What Tab completes in the terminal, and what the input history keeps: pure functions of
/// the line, for the line editor to call.
public enum CommandCompletion {
    /// Every command, as typed.
    static let commands = ["/signup", "/signin", "/to", "/history", "/p2p", "/accept", "/decline", "/file", "/voice", "/get",
                           "/friend", "/friends", "/wait", "/wait-p2p", "/help", "/quit", "/signout"]
    /// The commands whose first argument is a uid.
    static let takingAUID: Set<String> = ["/to", "/history", "/p2p", "/file", "/voice", "/get", "/friend"]

    /// The completions of `word` (the word under the cursor) in `line` (the whole line so far):
    /// a command as the first word, a uid among `uids` (friends and peers seen) as the first
    /// argument of a command that takes one.
    public static func candidates(line: String, word: String, uids: Set<String>) -> [String] {
        let before = line.split(separator: " ", omittingEmptySubsequences: true)
        let completingFirstWord = before.isEmpty || (before.count == 1 && !line.hasSuffix(" "))
        if completingFirstWord {
            return commands.filter { $0.hasPrefix(word) }
        }
        let completingFirstArgument = (before.count == 1 && line.hasSuffix(" ")) || (before.count == 2 && !line.hasSuffix(" "))
        guard completingFirstArgument, takingAUID.contains(String(before[0])) else { return [] }
        return uids.filter { $0.hasPrefix(word) }.sorted()
    }

    /// Whether a line entered goes into the history kept on disk: never one with a password.
    public static func keepsInHistory(_ line: String) -> Bool {
        let first = line.split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
        return first != "/signin" && first != "/signup"
    }
}
