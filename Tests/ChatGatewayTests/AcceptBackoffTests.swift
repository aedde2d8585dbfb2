@testable import ChatGateway
import Glibc
import Logging
import NIOCore
import NIOEmbedded
import Testing

@Suite struct AcceptBackoffTests {
    @Test func thePauseDoublesUpToTheLongestAndStartsOverAfterAnAccept() {
        var backoff = AcceptBackoff(shortest: .milliseconds(20), longest: .milliseconds(100))
        #expect(backoff.failed() == .milliseconds(20))
        #expect(backoff.failed() == .milliseconds(40))
        #expect(backoff.failed() == .milliseconds(80))
        #expect(backoff.failed() == .milliseconds(100))
        #expect(backoff.failed() == .milliseconds(100))
        backoff.accepted()
        #expect(backoff.failed() == .milliseconds(20))
    }

    @Test func onlyShortagesOfResourcesArePausedFor() {
        for code in [EMFILE, ENFILE, ENOBUFS, ENOMEM] {
            #expect(AcceptBackoff.isResourceShortage(IOError(errnoCode: code, reason: "accept")))
        }
        #expect(!AcceptBackoff.isResourceShortage(IOError(errnoCode: ECONNABORTED, reason: "accept")))
        #expect(!AcceptBackoff.isResourceShortage(ChannelError.ioOnClosedChannel))
    }

    @Test func failuresAreReportedAtOnceThenAtMostOncePerInterval() {
        var backoff = AcceptBackoff()
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        #expect(backoff.failuresToReport(now: start, every: .seconds(60)) == nil)
        _ = backoff.failed()
        #expect(backoff.failuresToReport(now: start, every: .seconds(60)) == 1)
        _ = backoff.failed()
        _ = backoff.failed()
        #expect(backoff.failuresToReport(now: start + .seconds(30), every: .seconds(60)) == nil)
        #expect(backoff.failuresToReport(now: start + .seconds(60), every: .seconds(60)) == 2)
    }

    /// The handler stops reading the listening channel (no accept, no wake-up) for the pause,
    /// then reads again.
    @Test func anEMFILEStopsAcceptingForThePause() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(AcceptPauseHandler(logger: Logger(label: "test")))
        #expect(autoRead(channel) == nil)
        channel.pipeline.fireErrorCaught(IOError(errnoCode: EMFILE, reason: "accept"))
        #expect(autoRead(channel) == false)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(19))
        #expect(autoRead(channel) == false)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(autoRead(channel) == true)
        // Still failing: a longer pause.
        channel.pipeline.fireErrorCaught(IOError(errnoCode: EMFILE, reason: "accept"))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(39))
        #expect(autoRead(channel) == false)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(autoRead(channel) == true)
    }

    @Test func otherErrorsPassOnWithoutAPause() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(AcceptPauseHandler(logger: Logger(label: "test")))
        channel.pipeline.fireErrorCaught(IOError(errnoCode: ECONNABORTED, reason: "accept"))
        #expect(autoRead(channel) == nil)
        #expect(throws: IOError.self) { try channel.throwIfErrorCaught() }
    }

    /// The `autoRead` last set on the channel (an `EmbeddedChannel` keeps the latest of each option).
    private func autoRead(_ channel: EmbeddedChannel) -> Bool? {
        channel.options.last { $0.option is ChannelOptions.Types.AutoReadOption }?.value as? Bool
    }
}
