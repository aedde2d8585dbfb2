import ChatProtocol
import Dispatch
import Foundation
import Synchronization

/// A gateway restart under `clients` signed-in clients holding resumption tickets: the gateway
/// is killed (the supervisor starts a new one), and every client comes back as `chat` does,
/// after its jittered `ReconnectBackoff`, with `resume <uid> <ticket>`, falling back to its
/// password when the ticket is refused. Measures the time from the kill until every client is
/// signed in again.
struct ReconnectStormBenchmark {
    let host: String
    let port: Int
    /// The certificate (PEM) to trust when `port` speaks TLS.
    let trust: String?
    let clients: Int
    let uidBase: Int
    let gatewayPID: () -> Int32?

    struct Result {
        let signInSeconds: Double
        /// From the kill until the new gateway first accepted a connection.
        let gatewayBackSeconds: Double
        /// From the kill until the last client had sent its `resume`.
        let resumesSentSeconds: Double
        /// From the kill until half, 90 % and 99 % of the clients had sent their `resume`.
        let resumesSentQuantiles: [Double]
        let backSeconds: Double
        /// From the kill until every client had its next ticket, as `chat` asks once back.
        let nextTicketsSeconds: Double
        /// Clients whose ticket was refused and who signed in with their password instead.
        let fellBackToPassword: Int
        /// CPU seconds each chatd process (by role; the new gateway's from its start) and this
        /// load generator spent from the kill until every client had its next ticket.
        let cpuSeconds: [(role: String, seconds: Double)]
        let generatorCPUSeconds: Double
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    private var uids: [String] { (0..<clients).map { String(format: "%06d", uidBase + $0) } }

    /// Client `index`'s own address (127.1.0.1, 127.1.0.2, ...), as if each were on a machine of
    /// its own: from one address, the new connections would pick ports of the killed gateway's
    /// connections still in TIME-WAIT on the server's side a third of the time, and wait a
    /// second for their SYN to be retried, which clients on their own machines hardly ever do.
    /// Only on loopback; a remote `host` sees this machine's address.
    static func sourceAddress(ofClient index: Int, host: String) -> String? {
        guard host.hasPrefix("127.") else { return nil }
        return "127.\(1 + index / 62_500).\(index % 62_500 / 250).\(index % 250 + 1)"
    }

    func run() throws -> Result {
        let uids = self.uids
        // Accounts and tickets, every client signed in at once.
        let started = DispatchTime.now().uptimeNanoseconds
        var sockets = try uids.indices.map {
            try BlockingSocket(port: port, host: host, from: Self.sourceAddress(ofClient: $0, host: host), receiveTimeout: 600, tlsTrust: trust)
        }
        for (socket, uid) in zip(sockets, uids) { try socket.send(.signUp(uid: uid, password: "pw")) }
        for socket in sockets { _ = try socket.readLine() }
        for (socket, uid) in zip(sockets, uids) {
            try socket.send(.signIn(uid: uid, password: "pw"))
            try socket.send(.resumeTicket(uid: uid))
        }
        var tickets: [String] = []
        for socket in sockets {
            let signIn = try socket.readLine(), ticketReply = try socket.readLine()
            guard ServerReply(text: signIn) == .signInSucceeded, let ticket = ServerReply.ticket(in: ServerReply(text: ticketReply)) else {
                throw Failure(description: "a client could not sign in or get a ticket: \(signIn); \(ticketReply)")
            }
            tickets.append(ticket)
        }
        let signInSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9

        guard let gateway = gatewayPID() else { throw Failure(description: "no gateway process") }
        let cpuBefore = Dictionary(uniqueKeysWithValues: ProcessStats.chatdProcesses().map { ($0.pid, $0.cpuSeconds) })
        let generatorCPUBefore = ProcessStats.usage(of: getpid())?.cpuSeconds ?? 0
        let killed = DispatchTime.now().uptimeNanoseconds
        kill(gateway, SIGKILL)
        sockets.removeAll()

        let outcomes = Mutex<[ComebackOutcome]>([])
        let finished = DispatchGroup()
        for shard in 0..<Self.generatorThreads {
            let share = Array(stride(from: shard, to: clients, by: Self.generatorThreads))
            let comeback = Comeback(host: host, port: port, trust: trust, uids: share.map { uids[$0] }, tickets: share.map { tickets[$0] },
                                    sources: share.map { Self.sourceAddress(ofClient: $0, host: host) })
            finished.enter()
            let thread = Thread {
                let outcome = comeback.run(killed: killed)
                outcomes.withLock { $0.append(outcome) }
                finished.leave()
            }
            thread.stackSize = 256 * 1024
            thread.start()
        }
        finished.wait()
        let all = outcomes.withLock { $0 }
        if let failure = all.compactMap(\.failure).first { throw Failure(description: failure) }
        let back = all.map(\.back).max() ?? killed
        let nextTickets = all.map(\.nextTickets).max() ?? killed
        let cpuSeconds = ProcessStats.chatdProcesses().map { ($0.role, $0.cpuSeconds - (cpuBefore[$0.pid] ?? 0)) }
        let generatorCPUSeconds = (ProcessStats.usage(of: getpid())?.cpuSeconds ?? 0) - generatorCPUBefore
        return Result(signInSeconds: signInSeconds,
                      gatewayBackSeconds: Self.seconds(since: killed, until: all.compactMap(\.firstAccepted).min() ?? killed),
                      resumesSentSeconds: Self.seconds(since: killed, until: all.map(\.resumesSent).max() ?? killed),
                      resumesSentQuantiles: Self.quantiles([0.5, 0.9, 0.99], of: all.flatMap(\.sent).map { Self.seconds(since: killed, until: $0) }),
                      backSeconds: Self.seconds(since: killed, until: back), nextTicketsSeconds: Self.seconds(since: killed, until: nextTickets),
                      fellBackToPassword: all.map(\.fellBack).reduce(0, +),
                      cpuSeconds: cpuSeconds, generatorCPUSeconds: generatorCPUSeconds)
    }

    /// Threads the clients coming back are spread over (TLS handshakes block theirs).
    private static let generatorThreads = 4

    private static func quantiles(_ fractions: [Double], of values: [Double]) -> [Double] {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return fractions.map { _ in 0 } }
        return fractions.map { sorted[min(sorted.count - 1, Int($0 * Double(sorted.count)))] }
    }

    private static func seconds(since start: UInt64, until end: UInt64) -> Double { Double(end - start) / 1e9 }
}

/// What one generator thread's clients went through coming back (uptime nanoseconds).
private struct ComebackOutcome: Sendable {
    var firstAccepted: UInt64?
    /// When each client had its `resume` sent.
    var sent: [UInt64] = []
    var resumesSent: UInt64 = 0
    var back: UInt64 = 0
    var nextTickets: UInt64 = 0
    var fellBack = 0
    var failure: String?
}

/// A share of the storm's clients, each retrying after its own `ReconnectBackoff` until the
/// new gateway accepts it, then resuming (or, refused, signing in with its password), then
/// asking for its next ticket.
private struct Comeback: Sendable {
    let host: String
    let port: Int
    let trust: String?
    let uids: [String]
    let tickets: [String]
    let sources: [String?]

    func run(killed: UInt64) -> ComebackOutcome {
        var outcome = ComebackOutcome()
        var backoffs = [ReconnectBackoff](repeating: ReconnectBackoff(), count: uids.count)
        var schedule = RetrySchedule()
        for client in uids.indices { schedule.add(client, due: killed + Self.nanoseconds(backoffs[client].next())) }
        func retry(_ client: Int) {
            schedule.add(client, due: DispatchTime.now().uptimeNanoseconds + Self.nanoseconds(backoffs[client].next()))
        }
        var connecting: [(client: Int, socket: ConnectingSocket)] = []
        var resuming: [(client: Int, socket: BlockingSocket)] = []
        while !schedule.isEmpty || !connecting.isEmpty {
            let now = DispatchTime.now().uptimeNanoseconds
            while let client = schedule.takeDue(by: now) {
                guard let socket = try? ConnectingSocket(port: port, host: host, from: sources[client]) else {
                    retry(client)
                    continue
                }
                connecting.append((client, socket))
            }
            // Until a handshake ends or the next client is due.
            let waitMilliseconds = schedule.soonest.map { Int32(min(($0 - min($0, now)) / 1_000_000 + 1, 100)) } ?? 100
            var polled = connecting.map { pollfd(fd: $0.socket.descriptor, events: Int16(POLLOUT), revents: 0) }
            guard poll(&polled, nfds_t(polled.count), waitMilliseconds) > 0 else { continue }
            var stillConnecting: [(client: Int, socket: ConnectingSocket)] = []
            for (entry, result) in zip(connecting, polled) {
                guard result.revents != 0 else {
                    stillConnecting.append(entry)
                    continue
                }
                guard entry.socket.isConnected, let socket = try? entry.socket.connected(receiveTimeout: 60, tlsTrust: trust),
                      (try? socket.send(.resume(uid: uids[entry.client], ticket: tickets[entry.client]))) != nil else {
                    retry(entry.client)
                    continue
                }
                let sent = DispatchTime.now().uptimeNanoseconds
                if outcome.firstAccepted == nil { outcome.firstAccepted = sent }
                resuming.append((entry.client, socket))
                outcome.sent.append(sent)
            }
            connecting = stillConnecting
        }
        outcome.resumesSent = DispatchTime.now().uptimeNanoseconds
        for (client, socket) in resuming {
            let reply = ServerReply(text: (try? socket.readLine()) ?? "")
            defer { _ = try? socket.send(.resumeTicket(uid: uids[client])) }
            if reply == .signInSucceeded { continue }
            // What `chat` does with a refused ticket: the password, on the same connection.
            guard reply == .wrongPassword, (try? socket.ask(.signIn(uid: uids[client], password: "pw"))) == .signInSucceeded else {
                outcome.failure = "client \(uids[client]) could not sign in again: \(reply.map(\.text) ?? "no reply")"
                return outcome
            }
            outcome.fellBack += 1
        }
        outcome.back = DispatchTime.now().uptimeNanoseconds
        for (client, socket) in resuming where ServerReply.ticket(in: ServerReply(text: (try? socket.readLine()) ?? "")) == nil {
            outcome.failure = "client \(uids[client]) got no next ticket"
            return outcome
        }
        outcome.nextTickets = DispatchTime.now().uptimeNanoseconds
        return outcome
    }

    private static func nanoseconds(_ seconds: Double) -> UInt64 { UInt64(seconds * 1e9) }
}
