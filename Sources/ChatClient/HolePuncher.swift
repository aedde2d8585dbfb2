import ChatProtocol
import Foundation
import Synchronization

/// TCP hole punching: from the local port whose public mapping the server saw, connect to
/// every endpoint of the peer at once (public and private), and listen on that port too,
/// retrying with fresh sockets until `deadline`. The first connection on which both sides
/// present the transfer's token wins; a stranger without it is dropped.
final class HolePuncher: Sendable {
    struct Link {
        let stream: ByteStream
        /// How it came about, for the user: `direct to 203.0.113.2:40001`.
        let route: String
    }

    private let localPort: UInt16
    private let token: String
    /// The sender chooses the link (and says `GO` on it); the receiver takes the link that
    /// hears `GO`, so both keep the same one even when several connect.
    private let chooses: Bool
    /// Set once, by whichever link's thread wins first.
    private let winner = Mutex<Link?>(nil)

    init(localPort: UInt16, token: String, chooses: Bool) {
        self.localPort = localPort
        self.token = token
        self.chooses = chooses
    }

    func connect(to candidates: [Endpoint], until deadline: Date) -> Link? {
        var threads: [Thread] = []
        let group = DispatchGroup()
        func spawn(_ body: @escaping @Sendable () -> Void) {
            group.enter()
            let thread = Thread { body(); group.leave() }
            threads.append(thread)
            thread.start()
        }
        spawn { [self] in listen(until: deadline) }
        // Unique endpoints only: without a NAT the public and private ones are the same.
        var seen: Set<String> = []
        for candidate in candidates where seen.insert(candidate.description).inserted {
            guard let address = PeerSocket.address(candidate.host, candidate.port) else { continue }
            spawn { [self] in dial(address, named: candidate.description, until: deadline) }
        }
        group.wait()
        return winner.withLock { $0 }
    }

    private var isDecided: Bool { winner.withLock { $0 != nil } }

    private func dial(_ address: sockaddr_in, named name: String, until deadline: Date) {
        while !isDecided && Date() < deadline {
            guard let fd = PeerSocket.bound(to: localPort) else {
                Thread.sleep(forTimeInterval: 0.1)
                continue
            }
            let stream = PlainStream(fd)
            if PeerSocket.connect(fd, to: address, timeout: min(1, max(0.05, deadline.timeIntervalSinceNow))),
               offer(stream, route: "direct to \(name)") {
                return
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    private func listen(until deadline: Date) {
        guard let listener = PeerSocket.bound(to: localPort), Glibc.listen(listener, 8) == 0 else { return }
        defer { close(listener) }
        while !isDecided && Date() < deadline {
            var descriptor = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 100) == 1 else { continue }
            let accepted = accept(listener, nil, nil)
            guard accepted >= 0 else { continue }
            _ = offer(PlainStream(accepted), route: "direct, accepted on port \(localPort)")
        }
    }

    /// Both sides send the token and expect it back; then the chooser says `GO` on the first
    /// such link and the other side waits for it. True if this link became the winner.
    /// A link that did not win is closed when `stream` goes.
    private func offer(_ stream: ByteStream, route: String) -> Bool {
        let hello = PeerLinkLine.hello(token: token)
        guard stream.send(hello), stream.readLinkLine(timeout: 3) == hello else { return false }
        if chooses {
            let won = winner.withLock { winner in
                guard winner == nil else { return false }
                winner = Link(stream: stream, route: route)
                return true
            }
            return won && stream.send(.go)
        }
        guard stream.readLinkLine(timeout: 5) == .go else { return false }
        return winner.withLock { winner in
            guard winner == nil else { return false }
            winner = Link(stream: stream, route: route)
            return true
        }
    }

    /// The fallback: a connection to the server's relay (on the chat connection's port, so in
    /// TLS when that is), which splices the two sides.
    static func relay(through server: ServerAddress, token: String, key: String) -> Link? {
        guard let stream = try? server.connect(ownPort: false) else { return nil }
        let hello = PeerLinkLine.hello(token: token)
        guard stream.send(line: ClientCommand.p2pRelay(token: token, key: key).text),
              stream.readLine(timeout: 35).flatMap({ ServerReply(text: $0) }) == .p2pRelayReady,
              stream.send(hello), stream.readLinkLine(timeout: 10) == hello else {
            return nil
        }
        return Link(stream: stream, route: server.tls == nil ? "through the server's relay" : "through the server's relay (TLS)")
    }
}
