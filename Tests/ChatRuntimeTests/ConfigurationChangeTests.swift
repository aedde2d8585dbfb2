@testable import ChatRuntime
import Testing

/// Which settings a reload applies in a running process and which wait for a restart.
@Suite struct ConfigurationChangeTests {
    @Test func liveSettingsAreAppliedAndTheOthersKeptAndNamed() {
        let current = ChatConfiguration()
        var new = current
        new.logLevel = "debug"
        new.messagesPerSecond = 5
        new.port = 9999
        new.dataDirectory = "elsewhere"

        let change = ConfigurationChange(from: current, to: new)

        #expect(change.applied == ["gateway.messages_per_second", "log_level"])
        #expect(change.needsRestart == ["data_dir", "gateway.port"])
        #expect(change.result.logLevel == "debug")
        #expect(change.result.messagesPerSecond == 5)
        #expect(change.result.port == current.port)
        #expect(change.result.dataDirectory == current.dataDirectory)
    }

    /// A renewed certificate and key are read on reload; turning TLS on, or setting one PEM
    /// file without the other, waits for a restart (which would then refuse it, saying why).
    @Test func theTLSPairChangesLiveOnlyWhileTLSStaysOnAndWhole() {
        var serving = ChatConfiguration()
        serving.tlsCertificate = "old.pem"
        serving.tlsPrivateKey = "old-key.pem"
        var renewed = serving
        renewed.tlsCertificate = "new.pem"
        renewed.tlsPrivateKey = "new-key.pem"
        #expect(ConfigurationChange(from: serving, to: renewed).applied == ["gateway.tls_certificate", "gateway.tls_private_key"])

        var half = ChatConfiguration()
        half.tlsCertificate = "new.pem"
        let change = ConfigurationChange(from: ChatConfiguration(), to: half)
        #expect(change.needsRestart == ["gateway.tls_certificate"])
        #expect(change.result.tlsCertificate.isEmpty)
    }

    @Test func nothingChangedNamesNothing() {
        let change = ConfigurationChange(from: ChatConfiguration(), to: ChatConfiguration())
        #expect(change.applied.isEmpty && change.needsRestart.isEmpty)
        #expect(change.result == ChatConfiguration())
    }

    /// The rule, in one list: changing these must never need a restart, and these always do.
    @Test func theLiveKeysAreTheOnesARunningProcessCanTake() {
        let live = Set(ConfigurationChange.liveKeys)
        for key in ["log_level", "log_format", "gateway.messages_per_second", "gateway.message_burst",
                    "gateway.login_timeout_seconds", "gateway.max_unauthenticated_per_address",
                    "gateway.max_queued_output_bytes", "auth.max_queued_hashes", "auth.max_hashes_per_address",
                    "auth.free_failed_sign_ins_per_address", "auth.free_sign_ups_per_address",
                    "router.p2p_offers_per_minute", "supervisor.max_restarts", "supervisor.shutdown_grace_seconds"] {
            #expect(live.contains(key), "\(key) should change live")
        }
        for key in ["data_dir", "gateway.host", "gateway.port", "gateway.threads", "auth.endpoint", "router.endpoint",
                    "storage.partitions", "auth.scrypt_n", "bus.request_timeout_ms",
                    "telemetry.endpoint", "metrics.listen"] {
            #expect(!live.contains(key), "\(key) should need a restart")
        }
        #expect(Set(ConfigurationChange.restartKeys).isDisjoint(with: live))
        #expect(ConfigurationChange.liveKeys.count + ConfigurationChange.restartKeys.count == ChatConfiguration.settings.count)
    }

    /// Storage workers added or removed at the end of the list change live; a list changed
    /// anywhere else would shift the workers' indices, and needs a restart.
    @Test func storageWorkersChangeLiveOnlyAtTheEndOfTheList() {
        var two = ChatConfiguration()
        two.storageEndpoints = ["tcp://a:1", "tcp://b:1"]
        var four = two
        four.storageEndpoints += ["tcp://c:1", "tcp://d:1"]
        var one = two
        one.storageEndpoints = ["tcp://a:1"]
        var middleGone = four
        middleGone.storageEndpoints = ["tcp://a:1", "tcp://c:1", "tcp://d:1"]
        #expect(ConfigurationChange(from: two, to: four).applied == ["storage.endpoints"])
        #expect(ConfigurationChange(from: four, to: one).applied == ["storage.endpoints"])
        #expect(ConfigurationChange(from: four, to: middleGone).needsRestart == ["storage.endpoints"])
        #expect(ConfigurationChange(from: four, to: middleGone).result.storageEndpoints == four.storageEndpoints)
    }

    /// Each key compares and copies its own field, not another's: a value set through a key is
    /// seen as a change of that key alone, and copied across by it.
    @Test(arguments: ChatConfiguration.settings.keys.sorted())
    func everyKeyComparesAndCopiesItsOwnField(key: String) throws {
        let setting = try #require(ChatConfiguration.settings[key])
        var new = ChatConfiguration()
        try new.apply(key, Self.otherValue(for: setting.expected))
        let change = ConfigurationChange(from: ChatConfiguration(), to: new)
        #expect(change.applied + change.needsRestart == [key])
        var copied = ChatConfiguration()
        setting.copy(&copied, new)
        #expect(copied == new)
    }

    /// A value each kind of setting takes that no default has.
    private static func otherValue(for expected: ExpectedValue) -> ConfigFile.Value {
        switch expected {
        case .string: .string("changed")
        case .oneOf(let choices): .string(choices.last!)
        case .boolean: .boolean(false)
        case .nonEmptyStrings, .strings: .strings(["tcp://changed:1"])
        case .integer(let range): .integer(range.lowerBound + 37)
        case .powerOfTwo(let range): .integer(range.lowerBound * 2)
        }
    }

    @Test func aLogLevelOrFormatNotKnownIsRefused() {
        var configuration = ChatConfiguration()
        #expect(throws: ConfigurationError.wrongValue(key: "log_level", expected: .oneOf(LogSettings.levels))) {
            try configuration.apply("log_level", .string("loud"))
        }
        let error = #expect(throws: ConfigurationError.self) { try configuration.apply("log_format", .string("xml")) }
        #expect(error?.description == "log_format: expected one of \"text\", \"json\"")
    }
}
