@testable import ChatGateway
import Testing

@Suite struct ConnectionCapTests {
    @Test func derivedFromTheDescriptorLimitLessAReserve() {
        #expect(ConnectionCap.effective(configured: 0, descriptorLimit: 1024) == 1024 - 128)
        #expect(ConnectionCap.effective(configured: 0, descriptorLimit: 20_000) == 18_000)
        #expect(ConnectionCap.effective(configured: 0, descriptorLimit: 1_048_576) == 1_048_576 - 104_857)
    }

    @Test func aSmallLimitKeepsHalfInReserve() {
        #expect(ConnectionCap.effective(configured: 0, descriptorLimit: 200) == 100)
        #expect(ConnectionCap.effective(configured: 0, descriptorLimit: 1) == 1)
    }

    @Test func aConfiguredCapIsKeptOnlyBelowTheDerivedOne() {
        #expect(ConnectionCap.effective(configured: 500, descriptorLimit: 20_000) == 500)
        #expect(ConnectionCap.effective(configured: 50_000, descriptorLimit: 20_000) == 18_000)
    }
}
