@testable import ChatGateway
import Testing

@Suite struct RelayTrafficTests {
    @Test func theCapIsTheOfferedSizeAndSixtyFourKiBAndOnePercent() {
        #expect(RelayTraffic.byteCap(offeredSize: 0) == 65_536)
        #expect(RelayTraffic.byteCap(offeredSize: 1_000_000) == 1_000_000 + 10_000 + 65_536)
        #expect(RelayTraffic.byteCap(offeredSize: -5) == 65_536)
        // A huge offer saturates instead of trapping.
        #expect(RelayTraffic.byteCap(offeredSize: .max) == .max)
        #expect(RelayTraffic.byteCap(offeredSize: .max - 100_000) == .max)
    }

    @Test func bytesAreTakenUpToTheCapAndNoFurther() {
        var traffic = RelayTraffic(offeredSize: 0)
        let taken = [65_000, 537, 536, 1].map { traffic.take($0) }
        #expect(taken == [true, false, true, false])
        #expect(traffic.remaining == 0)
    }

    @Test func idleMeansNothingEitherWaySinceTheLastCheck() {
        var traffic = RelayTraffic(offeredSize: 100)
        let atStart = traffic.checkIdle()
        _ = traffic.take(1)
        let afterReading = traffic.checkIdle(), thenQuiet = traffic.checkIdle()
        traffic.delivered()
        let afterWriting = traffic.checkIdle(), quietAgain = traffic.checkIdle()
        #expect([atStart, afterReading, thenQuiet, afterWriting, quietAgain] == [true, false, true, false, true])
    }
}

