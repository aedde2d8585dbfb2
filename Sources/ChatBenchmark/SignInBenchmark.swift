import ChatProtocol
import Dispatch
import Foundation

/// Password sign-ups then sign-ins of `users` accounts, all at once over `users` connections,
/// at the system's scrypt cost: what a storm of password sign-ins (every client of a restarted
/// gateway, say) gets through per second.
struct SignInBenchmark {
    let host: String
    let port: Int
    /// The certificate (PEM) to trust when `port` speaks TLS.
    let trust: String?
    let users: Int
    let uidBase: Int

    struct Result {
        let signUpsPerSecond: Double
        let signInsPerSecond: Double
        let failures: Int
    }

    func run() throws -> Result {
        let uids = (0..<users).map { String(format: "%06d", uidBase + $0) }
        let (signUpSeconds, signUpFailures) = try timeAll(uids) { .signUp(uid: $0, password: "pw\($0)") } accepting: { [.signUpSucceeded, .uidAlreadyExists] }
        let (signInSeconds, signInFailures) = try timeAll(uids) { .signIn(uid: $0, password: "pw\($0)") } accepting: { [.signInSucceeded] }
        return Result(signUpsPerSecond: Double(users) / signUpSeconds, signInsPerSecond: Double(users) / signInSeconds,
                      failures: signUpFailures + signInFailures)
    }

    /// Sends `command` for every uid at once, each on a connection of its own, and waits for
    /// every reply; returns the seconds from the first send to the last reply, and how many
    /// replies were not among `accepting`.
    private func timeAll(_ uids: [String], _ command: (String) -> ClientCommand,
                         accepting: () -> [ServerReply]) throws -> (Double, Int) {
        let sockets = try uids.map { _ in try BlockingSocket(port: port, host: host, receiveTimeout: 600, tlsTrust: trust) }
        let accepted = accepting()
        var failures = 0
        var firstFailure: String?
        let started = DispatchTime.now().uptimeNanoseconds
        for (socket, uid) in zip(sockets, uids) { try socket.send(command(uid)) }
        // Read in turn: the last reply ends the wait whatever order they come in.
        for socket in sockets {
            let line = try? socket.readLine()
            guard let reply = line.flatMap(ServerReply.init(text:)), accepted.contains(reply) else {
                failures += 1
                firstFailure = firstFailure ?? (line ?? "no reply")
                continue
            }
        }
        if let firstFailure { print("  \(failures) of \(uids.count) answered other than expected, first: \(firstFailure)") }
        return (Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9, failures)
    }
}
