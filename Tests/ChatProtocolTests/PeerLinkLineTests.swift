import ChatProtocol
import Testing

@Suite struct PeerLinkLineTests {
    let token = String(repeating: "f0", count: 16)

    @Test func spelledAsDocumentedAndReadBack() {
        let expected: [(PeerLinkLine, String)] = [
            (.hello(token: token), "P2P \(token)"), (.go, "GO"), (.received, "ok"), (.damaged, "bad"),
        ]
        for (line, text) in expected {
            #expect(line.text == text)
            #expect(PeerLinkLine(text: text) == line)
        }
    }

    @Test(arguments: ["", "go", "OK", "P2P", "P2P short", "p2p TOKEN", "P2P TOKEN extra", "P2P  TOKEN", "GO "])
    func otherLinesAreRejected(_ template: String) {
        let text = template.replacingOccurrences(of: "TOKEN", with: token)
        #expect(PeerLinkLine(text: text) == nil, "\(text)")
    }
}
