import ChatSupervisor
import Foundation

/// `/healthz`'s rule: healthy when every child is running and has reported its telemetry
/// lately (or, for `chatd monitor`, every expected role has). A child's phase alone misses
/// one that hangs (stopped by SIGSTOP, swapping, its bus loop stuck): it stays `running`, but
/// its reports stop (the reporter goes quiet for a stuck loop, `TelemetryReporter`).
///
/// A value with time passed in (seconds on the supervisor's clock, `Supervisor.now()`), so
/// the rule is tested without processes.
public struct HealthCheck: Sendable, Equatable {
    /// A child's latest report: which process sent it (a restarted child's predecessor does
    /// not speak for it) and when it came.
    public struct Heard: Sendable, Equatable {
        public let pid: Int32
        public let at: Double

        public init(pid: Int32, at: Double) {
            self.pid = pid
            self.at = at
        }
    }

    /// A running child silent for longer is unhealthy.
    public let silenceLimitSeconds: Double
    /// A child just started is not yet expected to have reported: past this, it is.
    public let startupGraceSeconds: Double

    public init(silenceLimitSeconds: Double, startupGraceSeconds: Double) {
        self.silenceLimitSeconds = silenceLimitSeconds
        self.startupGraceSeconds = startupGraceSeconds
    }

    /// Three reports missed in a row, but never under a second: at intervals of a few hundred
    /// milliseconds a busy machine would make a healthy child look hung now and then. A child
    /// reports as soon as it starts (`ChildOptions.reportTelemetry`), well within the grace.
    public init(telemetryIntervalMilliseconds: Int) {
        let silence = max(1, 3 * Double(telemetryIntervalMilliseconds) / 1000)
        self.init(silenceLimitSeconds: silence, startupGraceSeconds: silence + 5)
    }

    /// One line per unhealthy child, in start order (`storage-0 backing off`, `storage-0 silent
    /// for 4.2 s`); none when all is well.
    public func problems(_ states: [ChildState], heard: [String: Heard], now: Double) -> [String] {
        states.compactMap { state in
            switch state.phase {
            case .stopped:
                return "\(state.name) stopped"
            case .backingOff:
                return "\(state.name) backing off"
            case .running(let pid, let since):
                if let last = heard[state.name], last.pid == pid {
                    let silence = now - last.at
                    return silence > silenceLimitSeconds ? "\(state.name) silent for \(Self.seconds(silence))" : nil
                }
                let running = now - since
                return running > startupGraceSeconds ? "\(state.name) silent for \(Self.seconds(running)), since it started" : nil
            }
        }
    }

    /// The same rule for processes nobody here supervises (`chatd monitor`, roles run on their
    /// own): one line per expected role (`auth`, `storage-0`, `gateway`, ...) no process of
    /// which has reported lately. A role run alone reports as `<role>-<pid>`, and any one
    /// process of the role will do (there may be several gateways). `watchingSince`: when the
    /// watch began, before which nothing was expected (a start-up grace from then).
    public func problems(expecting roles: [String], heard: [String: Heard], now: Double, watchingSince: Double) -> [String] {
        roles.compactMap { role in
            let latest = heard.filter { Self.process($0.key, isOf: role) }.values.map(\.at).max()
            guard let latest else {
                return now - watchingSince > startupGraceSeconds ? "\(role) not heard from" : nil
            }
            let silence = now - latest
            return silence > silenceLimitSeconds ? "\(role) silent for \(Self.seconds(silence))" : nil
        }
    }

    /// `auth` for `auth` itself or `auth-4242`; not `storage-1` for `storage-10-4242`.
    static func process(_ name: String, isOf role: String) -> Bool {
        guard name.hasPrefix(role) else { return false }
        let rest = name.dropFirst(role.count)
        return rest.isEmpty || (rest.first == "-" && rest.count > 1 && rest.dropFirst().allSatisfy(\.isASCIIDigit))
    }

    private static func seconds(_ value: Double) -> String {
        String(format: "%.1f s", value)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
