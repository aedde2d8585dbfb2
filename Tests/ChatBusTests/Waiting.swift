import Foundation

/// A wait in a test that ran out: the test fails with what it waited for.
struct WaitTimedOut: Error, CustomStringConvertible {
    let description: String
}

/// Polls `condition` until it holds; throws, failing the test, if it still does not after `timeout`.
func waitUntil(_ what: @autoclosure () -> String, timeout: Duration, interval: Duration = .milliseconds(10),
               _ condition: () throws -> Bool) throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try condition() { return }
        guard ContinuousClock.now < deadline else { throw WaitTimedOut(description: "timed out after \(timeout) waiting for \(what())") }
        Thread.sleep(forTimeInterval: Double(interval.components.attoseconds) / 1e18 + Double(interval.components.seconds))
    }
}

extension DispatchSemaphore {
    /// Waits for one signal; throws, failing the test, if none comes within `timeout`.
    func wait(for what: @autoclosure () -> String, timeout: Duration) throws {
        let nanoseconds = Int(timeout.components.seconds) * 1_000_000_000 + Int(timeout.components.attoseconds / 1_000_000_000)
        if wait(timeout: .now() + .nanoseconds(nanoseconds)) == .timedOut {
            throw WaitTimedOut(description: "timed out after \(timeout) waiting for \(what())")
        }
    }
}
