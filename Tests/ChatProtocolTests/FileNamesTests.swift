import ChatProtocol
import Testing

@Suite struct FileNamesTests {
    private func valid(_ name: String) -> Bool { FileNames.isValidFileName(Array(name.utf8)) }

    @Test func fileNames() {
        #expect(valid("report.pdf"))
        #expect(valid("my file (final).tar.gz"))
        #expect(valid(".bashrc"))
        #expect(valid("ünïcödé 文件"))
        #expect(valid(String(repeating: "a", count: 255)))
        #expect(!valid(String(repeating: "a", count: 256)))
        #expect(!valid(""))
        #expect(!valid("."))
        #expect(!valid(".."))
        #expect(!valid("../etc/passwd"))
        #expect(!valid("a/b"))
        #expect(!valid("a\\b"))
        #expect(!valid("tab\there"))
        #expect(!valid("nul\u{0}"))
        #expect(!valid("del\u{7f}"))
        #expect(!valid("c1\u{85}"))
        #expect(!FileNames.isValidFileName([0x66, 0xff]))
    }

    @Test func audioNames() {
        let ok = { (name: String) in FileNames.isValidAudioName(Array(name.utf8)) }
        #expect(ok("202004131702_audio.mp3"))
        #expect(ok("999999999999_audio.a"))
        #expect(ok("202004131702_audio.12345678"))
        #expect(!ok("202004131702_audio.123456789"))
        #expect(!ok("202004131702_audio."))
        #expect(!ok("20200413170_audio.mp3"))
        #expect(!ok("202004131702-audio.mp3"))
        #expect(!ok("202004131702_audio.m-3"))
        #expect(!ok("202004131702_voice.mp3"))
        #expect(!ok("foo.mp3"))
    }

    @Test func collisionVariantsFollowTheProtocol() {
        #expect(FileNames.variant(of: "README", copy: 2) == "README (2)")
        #expect(FileNames.variant(of: ".bashrc", copy: 2) == ".bashrc (2)")
        #expect(FileNames.variant(of: "a.tar.gz", copy: 2) == "a.tar (2).gz")
        #expect(FileNames.variant(of: "photo.jpg", copy: 3) == "photo (3).jpg")
        #expect(FileNames.variant(of: "202004131702_audio.mp3", copy: 2) == "202004131702_audio (2).mp3")
    }
}
