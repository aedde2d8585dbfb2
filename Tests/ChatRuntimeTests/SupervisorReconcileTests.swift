import ChatSupervisor
import Foundation
import Logging
import Testing

/// The supervisor's children changed while it runs, as a reload adding or removing storage
/// workers will: real processes (`sleep`), started and stopped by name.
@Suite struct SupervisorReconcileTests {
    private func waitFor(_ what: String, _ supervisor: Supervisor, _ condition: ([ChildState]) -> Bool) throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition(supervisor.states()) {
            guard ContinuousClock.now < deadline else { throw Failure(description: "timed out waiting for \(what): \(supervisor.states())") }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    private func pid(_ name: String, in states: [ChildState]) -> Int32? {
        guard case .running(let pid, _)? = states.first(where: { $0.name == name })?.phase else { return nil }
        return pid
    }

    @Test func childrenAddedAndRemovedByNameAndAPlannedStopIsNoFailure() throws {
        let sleep = URL(fileURLWithPath: "/bin/sleep")
        let supervisor = Supervisor(executable: sleep, children: [ChildSpec(name: "a", arguments: ["1000"]), ChildSpec(name: "b", arguments: ["1000"])],
                                    policy: RestartPolicy(maxRestarts: 10, windowSeconds: 60, maxBackoffSeconds: 1), graceSeconds: 2,
                                    logger: Logger(label: "test"))
        let finished = DispatchSemaphore(value: 0)
        Thread {
            supervisor.run()
            finished.signal()
        }.start()
        defer {
            supervisor.stop()
            finished.wait()
        }
        try waitFor("a and b running", supervisor) { states in ["a", "b"].allSatisfy { pid($0, in: states) != nil } }
        let retired = try #require(pid("a", in: supervisor.states()))
        let kept = try #require(pid("b", in: supervisor.states()))

        supervisor.reconcile([ChildSpec(name: "b", arguments: ["1000"]), ChildSpec(name: "c", arguments: ["1000"])])
        try waitFor("a gone and c running", supervisor) { states in states.map(\.name) == ["b", "c"] && pid("c", in: states) != nil }
        let states = supervisor.states()
        #expect(pid("b", in: states) == kept, "a child still named is left alone")
        #expect(states.allSatisfy { $0.restarts == 0 }, "a planned stop is not counted as a restart")
        #expect(kill(retired, 0) != 0, "the retired child has exited")
    }
}
