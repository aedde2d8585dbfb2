import Foundation

/// A wait in a test that ran out: the test fails with what it waited for.
public struct WaitTimedOut: Error, CustomStringConvertible {
    public let description: String

    public init(description: String) {
        self.description = description
    }
}

/// Polls `condition` until it holds; throws, failing the test, if it still does not after
/// `timeout`. `what` is read only then, so it may carry a log.
public func waitUntil(_ what: @autoclosure () -> String, timeout: Duration, interval: Duration = .milliseconds(20),
                      _ condition: () throws -> Bool) throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try condition() { return }
        guard ContinuousClock.now < deadline else { throw WaitTimedOut(description: "timed out after \(timeout) waiting for \(what())") }
        Thread.sleep(forTimeInterval: interval.seconds)
    }
}

extension Duration {
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension DispatchSemaphore {
    /// Waits for one signal; throws, failing the test, if none comes within `timeout`.
    public func wait(for what: @autoclosure () -> String, timeout: Duration) throws {
        if wait(timeout: .now() + timeout.seconds) == .timedOut {
            throw WaitTimedOut(description: "timed out after \(timeout) waiting for \(what())")
        }
    }
}
