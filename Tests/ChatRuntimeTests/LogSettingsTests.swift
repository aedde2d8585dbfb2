import Logging
@testable import ChatRuntime
import Testing

/// A reload changes the level of loggers made before it: each reads the one shared setting.
@Suite struct LogSettingsTests {
    @Test func loggersMadeEarlierFollowTheSharedLevel() {
        let settings = LogSettings(level: .info, format: .text)
        var logger = Logger(label: "test") { LiveLogHandler(label: $0, settings: settings) }
        #expect(logger.logLevel == .info)

        var configuration = ChatConfiguration()
        configuration.logLevel = "debug"
        configuration.logFormat = "json"
        settings.update(from: configuration)
        #expect(logger.logLevel == .debug)
        #expect(settings.format == .json)

        // One logger given its own level keeps it, as swift-log asks; the others still follow.
        let other = logger
        logger.logLevel = .error
        configuration.logLevel = "trace"
        settings.update(from: configuration)
        #expect(logger.logLevel == .error)
        #expect(other.logLevel == .trace)
    }
}
