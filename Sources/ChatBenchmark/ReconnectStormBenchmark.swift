import ChatProtocol
import Dispatch
import Foundation

/// A gateway restart under `clients` signed-in clients holding resumption tickets: the gateway
/// is killed (the supervisor starts a new one), and every client comes back as `chat` does,
/// after a jittered backoff (a random half to all of 0.5 s, doubling while the gateway is not
/// back), with `resume <uid> <ticket>`. Measures the time from the kill until every client is
/// signed in again.
struct ReconnectStormBenchmark {
    let port: Int
    let clients: Int
    let uidBase: Int
    let gatewayPID: () -> Int32?

    struct Result {
        let signInSeconds: Double
        /// From the kill until the new gateway first accepted a connection.
        let gatewayBackSeconds: Double
        let backSeconds: Double
        let refused: Int
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    private var uids: [String] { (0..<clients).map { String(format: "%06d", uidBase + $0) } }

    func run() throws -> Result {
        // Accounts and tickets, every client signed in at once.
        let started = DispatchTime.now().uptimeNanoseconds
        var sockets = try uids.map { _ in try BlockingSocket(port: port, receiveTimeout: 600) }
        for (socket, uid) in zip(sockets, uids) { try socket.send(.signUp(uid: uid, password: "pw")) }
        for socket in sockets { _ = try socket.readLine() }
        for (socket, uid) in zip(sockets, uids) {
            try socket.send(.signIn(uid: uid, password: "pw"))
            try socket.send(.resumeTicket(uid: uid))
        }
        var tickets: [String] = []
        for socket in sockets {
            guard ServerReply(text: try socket.readLine()) == .signInSucceeded,
                  let ticket = ServerReply.ticket(in: ServerReply(text: try socket.readLine())) else {
                throw Failure(description: "a client could not sign in or get a ticket")
            }
            tickets.append(ticket)
        }
        let signInSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9

        guard let gateway = gatewayPID() else { throw Failure(description: "no gateway process") }
        let killed = DispatchTime.now().uptimeNanoseconds
        kill(gateway, SIGKILL)
        sockets.removeAll()
        // Each client's next try, and its backoff ceiling, as `chat`'s ReconnectBackoff.
        var nextTry = (0..<clients).map { _ in killed + UInt64(Double.random(in: 0.25...0.5) * 1e9) }
        var ceiling = [Double](repeating: 1, count: clients)
        var waiting = Set(0..<clients)
        var resumed: [(index: Int, socket: BlockingSocket)] = []
        var refused = 0
        var firstAccepted: UInt64?
        while !waiting.isEmpty {
            let now = DispatchTime.now().uptimeNanoseconds
            let due = waiting.filter { nextTry[$0] <= now }.sorted { nextTry[$0] < nextTry[$1] }
            if due.isEmpty {
                let soonest = waiting.map { nextTry[$0] }.min()!
                Thread.sleep(forTimeInterval: Double(soonest - now) / 1e9)
                continue
            }
            for index in due {
                guard let socket = try? BlockingSocket(port: port, receiveTimeout: 60) else {
                    nextTry[index] = DispatchTime.now().uptimeNanoseconds + UInt64(Double.random(in: (ceiling[index] / 2)...ceiling[index]) * 1e9)
                    ceiling[index] = min(ceiling[index] * 2, 30)
                    continue
                }
                if firstAccepted == nil { firstAccepted = DispatchTime.now().uptimeNanoseconds }
                try socket.send(.resume(uid: uids[index], ticket: tickets[index]))
                resumed.append((index, socket))
                waiting.remove(index)
            }
        }
        for (_, socket) in resumed where ServerReply(text: (try? socket.readLine()) ?? "") != .signInSucceeded { refused += 1 }
        let backSeconds = Double(DispatchTime.now().uptimeNanoseconds - killed) / 1e9
        return Result(signInSeconds: signInSeconds, gatewayBackSeconds: Double((firstAccepted ?? killed) - killed) / 1e9,
                      backSeconds: backSeconds, refused: refused)
    }
}
