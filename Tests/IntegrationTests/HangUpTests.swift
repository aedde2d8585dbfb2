import ChatTestSupport
import Foundation
import Testing

/// SIGHUP, the usual "reload", never stops the service: the supervisor logs it, reloads (here
/// with nothing to change, ReloadTests change things) and every process keeps running.
@Suite struct HangUpTests {
    @Test func sighupToTheSupervisorStopsNothing() throws {
        let system = try ChatSystem()
        defer { system.stop(); system.removeData() }
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        let pids = system.childPIDs.sorted()
        #expect(pids.count == 5, "auth, two storage workers, router and gateway")

        for sent in 1...2 {
            kill(system.supervisor.processIdentifier, SIGHUP)
            try waitUntil("reload line \(sent); log:\n\(system.log)", timeout: .seconds(10)) {
                system.log.split(separator: "\n").filter { $0.contains("chatd.supervisor:") && $0.contains("reload: nothing changed") }.count == sent
            }
        }
        #expect(system.log.contains("reload requested"))

        #expect(try alice.ask("\(a) to \(b) 202004131702 text\nstill here") == "ok")
        #expect(try bob.readLine() == "\(a) to \(b) 202004131702 text")
        #expect(try bob.readLine() == "still here")
        #expect(system.supervisor.isRunning)
        #expect(system.childPIDs.sorted() == pids)
        #expect(!system.log.contains("child exited"))
    }
}
