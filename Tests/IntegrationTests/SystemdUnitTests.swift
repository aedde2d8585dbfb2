import ChatBenchmark
import Foundation
import Testing

/// The shipped units in ops/systemd/, as systemd itself reads them.
@Suite struct SystemdUnitTests {
    static let unitFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ops/systemd")
    static let shippedBinary = "/usr/local/bin/chatd"

    /// Every unit, the storage template as instance 0. `verify` prints what it ignores (an
    /// unknown key, a bad value) without failing, so any output at all fails the test.
    @Test func unitsVerifyCleanly() throws {
        try Self.installSystemdAnalyze()
        let copies = try Self.copiesRunningBuiltChatd()
        defer { try? FileManager.default.removeItem(at: copies) }
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.unitFolder.path).sorted()
        #expect(names == ["chatd-auth.service", "chatd-gateway.service", "chatd-monitor.service", "chatd-router.service",
                          "chatd-storage@.service", "chatd.service"])
        for name in names {
            let instance = name.replacingOccurrences(of: "@.", with: "@0.")
            let output = try NATLab.run(["systemd-analyze", "verify", "--man=no", copies.appendingPathComponent(instance).path])
            #expect(output.isEmpty, "\(name): \(output)")
        }
    }

    /// `verify` insists that ExecStart's binary exists, and the shipped path need not exist
    /// here: temporary copies name the chatd this test run built instead.
    static func copiesRunningBuiltChatd() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chat-units-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let built = ChatSystem.binaries.appendingPathComponent("chatd").path
        for name in try FileManager.default.contentsOfDirectory(atPath: unitFolder.path) {
            let text = try String(contentsOf: unitFolder.appendingPathComponent(name), encoding: .utf8)
            #expect(text.contains("ExecStart=\(shippedBinary) "), "\(name) runs another binary")
            try text.replacingOccurrences(of: shippedBinary, with: built)
                .write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return folder
    }

    /// A clean Debian has no systemd; its package brings systemd-analyze.
    static func installSystemdAnalyze() throws {
        guard (try? NATLab.run(["which", "systemd-analyze"])) == nil else { return }
        try NATLab.run(["sh", "-c", "export DEBIAN_FRONTEND=noninteractive; apt-get install -y systemd || (apt-get update && apt-get install -y systemd)"],
                       timeout: .seconds(600))
    }
}
