@testable import ChatClient
import Testing

@Suite struct TerminalTextTests {
    @Test func escapeSequencesAreShownNotRun() {
        #expect(TerminalText.escaped("\u{1B}[2J\u{1B}[H") == "\\e[2J\\e[H")
        #expect(TerminalText.escaped("\u{1B}]0;owned\u{07}") == "\\e]0;owned\\x07")
    }

    @Test func bareCarriageReturnAndOtherC0ControlsAreShown() {
        #expect(TerminalText.escaped("hi\rserver: you are banned") == "hi\\rserver: you are banned")
        #expect(TerminalText.escaped("a\nb\tc") == "a\\nb\\tc")
        #expect(TerminalText.escaped("\u{0}\u{8}\u{1F}") == "\\x00\\x08\\x1F")
    }

    @Test func deleteAndC1ControlsAreShown() {
        #expect(TerminalText.escaped("a\u{7F}b") == "a\\x7Fb")
        // U+009B is CSI on its own and U+009D OSC, on terminals that honour C1.
        #expect(TerminalText.escaped("\u{9B}2J\u{9D}0;t\u{9C}\u{80}\u{9F}") == "\\x9B2J\\x9D0;t\\x9C\\x80\\x9F")
    }

    @Test func bidiControlsAreShown() {
        #expect(TerminalText.escaped("invoice\u{202E}fdp.exe") == "invoice\\u{202E}fdp.exe")
        let all: [Unicode.Scalar] = ["\u{61C}", "\u{200E}", "\u{200F}", "\u{202A}", "\u{202B}", "\u{202C}", "\u{202D}",
                                     "\u{202E}", "\u{2066}", "\u{2067}", "\u{2068}", "\u{2069}"]
        for scalar in all {
            #expect(TerminalText.escaped(String(scalar)) == "\\u{" + String(scalar.value, radix: 16, uppercase: true).leftPadded(4) + "}")
        }
    }

    @Test func aBackslashStaysDistinguishableFromAnEscape() {
        #expect(TerminalText.escaped("\\e[2J") == "\\\\e[2J")
        #expect(TerminalText.escaped("C:\\temp") == "C:\\\\temp")
        #expect(TerminalText.escaped("\\\u{1B}") == "\\\\\\e")
    }

    @Test func ordinaryTextIsUnchanged() {
        for text in ["", "hello, world", "Grüße aus Köln", "Привет", "שלום", "مرحبا", "日本語のテキスト", "👍🏽 👨‍👩‍👧 🇫🇷",
                     "e\u{301}", "a.b (2).txt", "\u{A0}non-breaking"] {
            #expect(TerminalText.escaped(text) == text)
        }
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
