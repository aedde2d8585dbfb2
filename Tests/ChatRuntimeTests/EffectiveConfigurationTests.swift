@testable import ChatRuntime
import Foundation
import Testing

@Suite struct EffectiveConfigurationTests {
    /// Every setting survives the trip through the file, strings with quotes, backslashes,
    /// newlines and control characters among them.
    @Test func aWrittenConfigurationReadsBackTheSame() throws {
        var configuration = ChatConfiguration()
        configuration.dataDirectory = "/tmp/a \"quoted\" \\ folder\nwith\tcontrol \u{1}"
        configuration.port = 4242
        configuration.storageEndpoints = ["tcp://10.0.0.2:7910", "tcp://10.0.0.3:7910", "tcp://10.0.0.4:7910"]
        configuration.sendLocalFiles = false
        configuration.maxFileBytes = 5 << 30
        configuration.logFormat = "json"
        var read = ChatConfiguration()
        for (key, value) in try ConfigFile.parse(ConfigFile.write(configuration.fileValues)) {
            try read.apply(key, value)
        }
        #expect(read == configuration)
        #expect(ConfigFile.write(configuration.fileValues).split(separator: "\n").count == ChatConfiguration.settings.count)
    }

    @Test func theFileIsWrittenInTheDataFolder() throws {
        var configuration = ChatConfiguration()
        configuration.dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("effective-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: configuration.dataDirectory) }
        configuration.messagesPerSecond = 7
        try EffectiveConfiguration.write(configuration)
        let options = try ConfigurationOptions.parse(["--config", EffectiveConfiguration.path(dataDirectory: configuration.dataDirectory)])
        #expect(try options.resolve() == configuration)
    }
}
