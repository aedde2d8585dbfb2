import Foundation
import Logging
@testable import ChatRuntime
import Synchronization
import Testing

/// A reload reads the same file again: what can change live is applied and handed on, a file
/// that cannot be read changes nothing.
@Suite struct ConfigurationReloadTests {
    private let file = FileManager.default.temporaryDirectory.appendingPathComponent("reload-\(UUID().uuidString).toml")

    private func write(_ text: String) throws {
        try text.write(to: file, atomically: true, encoding: .utf8)
    }

    /// What the reload handed on, in order.
    private final class Applied: Sendable {
        private let configurations = Mutex<[ChatConfiguration]>([])
        var all: [ChatConfiguration] { configurations.withLock { $0 } }
        func append(_ configuration: ChatConfiguration) { configurations.withLock { $0.append(configuration) } }
    }

    private func reload(_ text: String) throws -> (ConfigurationReload, Applied) {
        try write(text)
        let source = ConfigurationSource(config: file.path, overrides: ["gateway.message_burst=7"])
        let reload = ConfigurationReload(source: source, current: try source.resolve(), logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let applied = Applied()
        reload.whenReloaded { applied.append($0) }
        return (reload, applied)
    }

    @Test func aChangedFileIsAppliedLiveAndRestartKeysAreKept() throws {
        defer { try? FileManager.default.removeItem(at: file) }
        let (reload, applied) = try reload("log_level = \"info\"\n[gateway]\nport = 7000\n")
        let initial = reload.current

        try write("log_level = \"debug\"\n[gateway]\nport = 7001\nmessages_per_second = 3\n")
        let outcome = reload.reload()

        let expected = ConfigurationChange(from: initial, to: try ConfigurationSource(config: file.path, overrides: ["gateway.message_burst=7"]).resolve())
        #expect(outcome == .reloaded(expected))
        #expect(expected.applied == ["gateway.messages_per_second", "log_level"])
        #expect(expected.needsRestart == ["gateway.port"])
        #expect(reload.current.logLevel == "debug" && reload.current.messagesPerSecond == 3)
        #expect(reload.current.port == 7000)
        // The command line's overrides are read again too: they still win over the file.
        #expect(reload.current.messageBurst == 7)
        #expect(applied.all == [reload.current])
        #expect(outcome.summary == ["applied: gateway.messages_per_second, log_level",
                                    "needs a restart, left as it was: gateway.port"])
    }

    @Test func anInvalidFileChangesNothing() throws {
        defer { try? FileManager.default.removeItem(at: file) }
        let (reload, applied) = try reload("log_level = \"warning\"\n")
        let before = reload.current

        try write("log_level = \"debug\"\n[gateway]\nport = \"not a number\"\n")
        let outcome = reload.reload()

        #expect(outcome == .failed(.wrongValue(key: "gateway.port", expected: .integer(in: 0...65535))))
        #expect(outcome.summary == ["reload failed, nothing changed: gateway.port: expected an integer in 0...65535"])
        #expect(reload.current == before)
        #expect(applied.all.isEmpty)

        try FileManager.default.removeItem(at: file)
        guard case .failed(.unreadableFile) = reload.reload() else { Issue.record("a missing file must fail the reload"); return }
        #expect(reload.current == before)
    }

    @Test func anUnchangedFileSaysSo() throws {
        defer { try? FileManager.default.removeItem(at: file) }
        let (reload, applied) = try reload("log_level = \"info\"\n")
        let outcome = reload.reload()
        #expect(outcome.summary == ["reloaded: nothing changed"])
        // Handed on all the same: a child restarted since may have read something else.
        #expect(applied.all.count == 1)
    }
}
