@testable import ChatMonitoring
import Testing

/// `chatd status`'s table, byte for byte.
@Suite struct StatusTableTests {
    @Test func tableShowsARowPerProcessAndTheTotals() {
        let status = SystemStatus(processes: [
            .init(name: "storage-0", role: "storage", pid: 20, state: "running", uptimeSeconds: 3725, restarts: 1,
                  requestsInFlight: 0, busTimeoutsLastMinute: 0, sessionsOnline: nil, partitions: [0, 2],
                  partitionsWaiting: [4, 6], mapEpoch: 3),
            .init(name: "gateway", role: "gateway", pid: nil, state: "backing off", uptimeSeconds: nil, restarts: 12,
                  requestsInFlight: nil, busTimeoutsLastMinute: nil, sessionsOnline: nil, partitions: nil),
        ], sessionsOnline: 0)
        #expect(StatusTable.render(status) == """
            PROCESS    ROLE     PID  STATE        UPTIME  RESTARTS  IN FLIGHT  TIMEOUTS/MIN  SESSIONS  MAP  PARTITIONS
            storage-0  storage  20   running      1h02m   1         0          0             -         3    0,2 (waiting for 4,6)
            gateway    gateway  -    backing off  -       12        -          -             -         -    -

            sessions online: 0

            """)
    }

    @Test func uptimeReadsAtAGlance() {
        #expect(StatusTable.uptime(42.7) == "42s")
        #expect(StatusTable.uptime(187) == "3m07s")
        #expect(StatusTable.uptime(7500) == "2h05m")
        #expect(StatusTable.uptime(3 * 86_400 + 4 * 3600 + 5) == "3d04h")
    }
}
