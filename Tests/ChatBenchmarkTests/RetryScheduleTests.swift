@testable import ChatBenchmark
import Testing

@Suite struct RetryScheduleTests {
    @Test func givesClientsBackSoonestFirstAndOnlyOnceDue() {
        var schedule = RetrySchedule()
        let dues: [UInt64] = [50, 10, 40, 30, 20, 60, 10]
        for (client, due) in dues.enumerated() { schedule.add(client, due: due) }
        #expect(schedule.soonest == 10)
        #expect(schedule.takeDue(by: 5) == nil)

        var taken: [Int] = []
        while let client = schedule.takeDue(by: 45) { taken.append(client) }
        #expect(taken.map { dues[$0] } == [10, 10, 20, 30, 40])
        #expect(Set(taken) == [1, 6, 4, 3, 2])
        #expect(schedule.soonest == 50)

        schedule.add(7, due: 1)
        #expect(schedule.takeDue(by: 1) == 7)
        #expect(schedule.takeDue(by: 100) == 0)
        #expect(schedule.takeDue(by: 100) == 5)
        #expect(schedule.isEmpty)
    }
}
