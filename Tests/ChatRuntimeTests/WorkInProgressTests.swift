import ChatRuntime
import Foundation
import Testing

@Suite struct WorkInProgressTests {
    @Test func workIsLongOnlyWhileItRunsPastTheLimit() {
        let work = WorkInProgress()
        #expect(!work.isLongerThan(.zero), "no work yet")
        work.begin()
        Thread.sleep(forTimeInterval: 0.05)
        #expect(work.isLongerThan(.milliseconds(10)))
        #expect(!work.isLongerThan(.seconds(60)))
        work.end()
        #expect(!work.isLongerThan(.zero))
    }
}
