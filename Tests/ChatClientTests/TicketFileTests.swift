@testable import ChatClient
import Foundation
import Testing

/// The file `chat --ticket-file` keeps its ticket in.
@Suite struct TicketFileTests {
    private let path = FileManager.default.temporaryDirectory.appendingPathComponent("ticket-\(UUID().uuidString)").path
    private let ticket = String(repeating: "0f", count: 16)

    @Test func savedOwnerOnlyAndLoadedBack() throws {
        defer { unlink(path) }
        let file = TicketFile(path: path)
        #expect(try file.load() == nil, "no file: no ticket")
        // An earlier file others could read is replaced by an owner-only one.
        try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o644)
        try file.save(TicketFile.Saved(uid: "123456", ticket: ticket))
        let mode = try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
        #expect(try file.load() == TicketFile.Saved(uid: "123456", ticket: ticket))
        file.remove()
        #expect(try file.load() == nil)
    }

    @Test(arguments: ["", "123456", "123456 \(String(repeating: "0F", count: 16))", "12345 \(String(repeating: "0f", count: 16))",
                      "123456 \(String(repeating: "0f", count: 16)) extra"])
    func whatIsNoTicketIsSaidSo(_ contents: String) throws {
        defer { unlink(path) }
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o600)
        let error = try #require(throws: TicketFile.Unusable.self) { try TicketFile(path: path).load() }
        #expect(error.description.contains("holds no ticket"))
    }
}
