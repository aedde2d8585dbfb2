import ChatProtocol
import Dispatch
import Foundation
import Synchronization

/// Hostile clients against a system with its default limits, and what a bystander notices:
/// a sign-in storm, a connection flood and receivers that never read. Attackers come from
/// 127.0.0.2 and neighbours, the bystander from 127.0.0.3, so limits kept per address see
/// them as the different clients they would be.
struct AbuseBenchmark {
    struct Options {
        var port = 7890
        var uidBase = 700_000
        var stormConnections = 300
        var stormSeconds = 20.0
        var floodConnections = 10_000
        var floodAddresses = 100
        var floodHoldSeconds = 10.0
        var slowReaders = 16
        var slowReaderSeconds = 20.0
        var slowReaderTextBytes = 60_000
    }

    /// Figures of one phase: what the bystander saw and what the gateway and auth spent.
    struct Phase {
        var bystanderMillis: [Double] = []
        var bystanderFailures = 0
        var gatewayCPUPercent = 0.0
        var authCPUPercent = 0.0
        var gatewayResidentMiB = 0.0
        var gatewayPeakMiB = 0.0
        var notes: [String] = []

        /// One bystander sign-in: its milliseconds, or nil when it failed.
        mutating func recordBystander(_ millis: Double?) {
            if let millis { bystanderMillis.append(millis) } else { bystanderFailures += 1 }
        }
    }

    let options: Options
    let gatewayPID: Int32
    let authPID: Int32
    private var bystander: String { String(format: "%06d", options.uidBase) }
    private var victim: String { String(format: "%06d", options.uidBase + 1) }

    /// The bystander's sign-in, timed; nil when it did not succeed.
    func bystanderSignIn() -> Double? {
        let start = DispatchTime.now().uptimeNanoseconds
        guard let socket = try? BlockingSocket(port: options.port, from: "127.0.0.3", receiveTimeout: 10),
              (try? socket.ask(.signIn(uid: bystander, password: "bystander"))) == .signInSucceeded else { return nil }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    }

    func prepare() throws {
        for (uid, password) in [(bystander, "bystander"), (victim, "victim")] {
            let socket = try BlockingSocket(port: options.port, from: "127.0.0.3", receiveTimeout: 30)
            let reply = try socket.ask(.signUp(uid: uid, password: password))
            guard reply == .signUpSucceeded || reply == .uidAlreadyExists else { throw BlockingSocket.Failure(description: "signup \(uid): \(String(describing: reply))") }
        }
    }

    /// The bystander's sign-ins, back to back, while `duration` lasts.
    private func watch(for duration: Double, into phase: inout Phase) {
        let end = Date().addingTimeInterval(duration)
        while Date() < end {
            phase.recordBystander(bystanderSignIn())
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    /// Runs `attack` while the bystander watches; CPU and memory of gateway and auth over it.
    private func measure(seconds: Double, _ phase: inout Phase) {
        ProcessStats.resetPeak(pid: gatewayPID)
        let gatewayBefore = ProcessStats.usage(of: gatewayPID)?.cpuSeconds ?? 0
        let authBefore = ProcessStats.usage(of: authPID)?.cpuSeconds ?? 0
        let start = Date()
        watch(for: seconds, into: &phase)
        let elapsed = Date().timeIntervalSince(start)
        let gateway = ProcessStats.usage(of: gatewayPID)
        phase.gatewayCPUPercent = ((gateway?.cpuSeconds ?? 0) - gatewayBefore) / elapsed * 100
        phase.authCPUPercent = ((ProcessStats.usage(of: authPID)?.cpuSeconds ?? 0) - authBefore) / elapsed * 100
        phase.gatewayResidentMiB = Double(gateway?.residentKiB ?? 0) / 1024
        phase.gatewayPeakMiB = Double(gateway?.peakKiB ?? 0) / 1024
    }

    func baseline() -> Phase {
        var phase = Phase()
        for _ in 0..<10 {
            phase.recordBystander(bystanderSignIn())
        }
        return phase
    }

    /// Storm connections from 127.0.0.2 guess the victim's password and probe unknown uids.
    /// Returns the storm's figures and the seconds until the bystander signs in as fast as at
    /// baseline again (three in a row) once the storm stops.
    func storm(baselineMillis: Double) -> (Phase, recoverySeconds: Double?) {
        let stop = Atomic(false)
        let replies = Mutex<[String: Int]>([:])
        let open = Mutex<Set<Int32>>([])
        var threads: [Thread] = []
        for index in 0..<options.stormConnections {
            let thread = Thread { [options, victim] in
                var attempt = 0
                while !stop.load(ordering: .relaxed) {
                    guard let socket = try? BlockingSocket(port: options.port, from: "127.0.0.2", receiveTimeout: 5) else {
                        replies.withLock { $0["(connect refused)", default: 0] += 1 }
                        Thread.sleep(forTimeInterval: 0.05)
                        continue
                    }
                    open.withLock { _ = $0.insert(socket.descriptor) }
                    defer { open.withLock { _ = $0.remove(socket.descriptor) } }
                    while !stop.load(ordering: .relaxed) {
                        attempt += 1
                        let uid = attempt.isMultiple(of: 2) ? victim : String(format: "%06d", 900_000 + (index * 7919 + attempt) % 99_999)
                        guard let reply = try? socket.ask(.signIn(uid: uid, password: "guess\(attempt)")) else {
                            replies.withLock { $0["(closed)", default: 0] += 1 }
                            break
                        }
                        replies.withLock { $0[reply.text, default: 0] += 1 }
                    }
                }
            }
            thread.stackSize = 256 * 1024
            thread.start()
            threads.append(thread)
        }
        var phase = Phase()
        measure(seconds: options.stormSeconds, &phase)
        stop.store(true, ordering: .relaxed)
        open.withLock { for descriptor in $0 { shutdown(descriptor, Int32(SHUT_RDWR)) } }

        let stopped = Date()
        var fastInARow = 0
        var recovery: Double?
        var firstFast: Date?
        while Date().timeIntervalSince(stopped) < 120 {
            let millis = bystanderSignIn()
            if let millis, millis <= max(2 * baselineMillis, baselineMillis + 50) {
                if fastInARow == 0 { firstFast = Date() }
                fastInARow += 1
                if fastInARow == 3 { recovery = firstFast!.timeIntervalSince(stopped); break }
            } else {
                fastInARow = 0
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        phase.notes = replies.withLock { $0 }.sorted { $0.value > $1.value }.map { "\($0.value) × \($0.key)" }
        return (phase, recovery)
    }

    /// Connections that never sign in, from `floodAddresses` addresses, held open while the
    /// bystander signs in; then how many the server had closed.
    func flood() -> Phase {
        var sockets: [BlockingSocket] = []
        var refused = 0
        for index in 0..<options.floodConnections {
            let address = "127.0.1.\(1 + index % max(1, min(options.floodAddresses, 254)))"
            if let socket = try? BlockingSocket(port: options.port, from: address) { sockets.append(socket) } else { refused += 1 }
        }
        var phase = Phase()
        measure(seconds: options.floodHoldSeconds, &phase)
        let closed = sockets.filter(\.isClosedByPeer).count
        phase.notes = ["\(sockets.count) connected, \(refused) could not connect, \(closed) of the connected closed by the server"]
        sockets.removeAll()
        return phase
    }

    /// Receivers signed in from 127.0.0.4 that never read, each sent texts as fast as its
    /// sender from 127.0.0.5 gets answers, while the bystander signs in.
    /// A new user `number`, signed up and in from `address`.
    private func signedIn(_ number: Int, from address: String) throws -> BlockingSocket {
        let uid = String(format: "%06d", number)
        let socket = try BlockingSocket(port: options.port, from: address, receiveTimeout: 30)
        _ = try socket.ask(.signUp(uid: uid, password: "pw"))
        guard try socket.ask(.signIn(uid: uid, password: "pw")) == .signInSucceeded else {
            throw BlockingSocket.Failure(description: "\(uid) could not sign in from \(address)")
        }
        return socket
    }

    func slowReaders() throws -> Phase {
        // One after another: an address has a small share of the hashing queue.
        let receivers = try (0..<options.slowReaders).map { try signedIn(options.uidBase + 10 + $0, from: "127.0.0.4") }
        let senders = try (0..<options.slowReaders).map { try signedIn(options.uidBase + 100 + $0, from: "127.0.0.5") }
        let stop = Atomic(false)
        let replies = Mutex<[String: Int]>([:])
        // A receiver the gateway disconnected is offline: its sender is told so. (Its socket
        // cannot tell: the server's FIN waits behind the bytes it never reads.)
        let disconnectedAfter = Mutex<[Double]>([])
        let start = Date()
        let body = String(repeating: "x", count: options.slowReaderTextBytes)
        var threads: [Thread] = []
        for index in 0..<options.slowReaders {
            let sender = String(format: "%06d", options.uidBase + 100 + index)
            let receiver = String(format: "%06d", options.uidBase + 10 + index)
            // Used by this thread alone from here on.
            nonisolated(unsafe) let socket = senders[index]
            let thread = Thread {
                let header = MessageHeader(sender: sender, recipient: receiver, timestamp: "202012062300", kind: .text)
                while !stop.load(ordering: .relaxed) {
                    guard let reply = try? socket.ask(.message(header: header, body: body)) else { break }
                    replies.withLock { $0[reply.text, default: 0] += 1 }
                    if reply == .targetUserOffline {
                        disconnectedAfter.withLock { $0.append(Date().timeIntervalSince(start)) }
                        break
                    }
                }
            }
            thread.start()
            threads.append(thread)
        }
        var phase = Phase()
        measure(seconds: options.slowReaderSeconds, &phase)
        stop.store(true, ordering: .relaxed)
        withExtendedLifetime((receivers, senders)) {}
        let disconnected = disconnectedAfter.withLock { $0 }.sorted()
        let when = disconnected.isEmpty ? "" : String(format: ", after %.1f to %.1f s", disconnected.first!, disconnected.last!)
        phase.notes = ["\(disconnected.count) of \(receivers.count) receivers disconnected by the server\(when)"]
            + replies.withLock { $0 }.sorted { $0.value > $1.value }.map { "senders got \($0.value) × \($0.key)" }
        return phase
    }
}
