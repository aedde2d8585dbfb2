@testable import ChatGateway
import Testing

/// The gateway-wide bound on output clients leave unread: who is over their share, and when.
@Suite struct OutputBudgetTests {
    @Test func nobodyIsOverTheirShareWhileTheGatewayIsWithinItsBudget() {
        let share = OutputShare(limit: 1000)
        #expect(!share.isExceeded(by: 1000, total: 1000, backloggedConnections: 1))
        #expect(share.isExceeded(by: 1001, total: 1001, backloggedConnections: 1))
    }

    @Test func overTheBudgetTheShareIsTheBudgetSplitAmongTheBackloggedConnections() {
        let share = OutputShare(limit: 1000)
        #expect(!share.isExceeded(by: 250, total: 1100, backloggedConnections: 4))
        #expect(share.isExceeded(by: 251, total: 1100, backloggedConnections: 4))
    }

    @Test func aLimitOfZeroBoundsNothing() {
        #expect(!OutputShare(limit: 0).isExceeded(by: 1 << 40, total: 1 << 40, backloggedConnections: 1))
    }

    @Test func theBudgetSumsBackloggedConnectionsAndClosesOnlyAGrowingOneOverItsShare() {
        let budget = OutputBudget(limit: 1000)
        #expect(!budget.account(from: 0, to: 400))
        #expect(!budget.account(from: 0, to: 400))
        // 1,100 in all over three connections: a share of 333 each, and this one is within it.
        #expect(!budget.account(from: 0, to: 300))
        #expect(budget.queuedBytes == 1100)
        // One that grows past its share goes...
        #expect(budget.account(from: 400, to: 450))
        // ...while one that shrinks does not, even over its share.
        #expect(!budget.account(from: 400, to: 380))
        // Released, a connection no longer counts; with the total back within budget nobody goes.
        #expect(!budget.account(from: 300, to: 0))
        #expect(!budget.account(from: 450, to: 600))
        #expect(budget.queuedBytes == 980)
    }
}
