import ChatProtocol
import Foundation
import Synchronization

/// TCP hole punching: from the local port whose public mapping the server saw, connect to
/// every endpoint of the peer at once (public and private), and listen on that port too,
/// retrying with fresh sockets until `deadline`. The first connection on which both sides
/// present the transfer's token wins; a stranger without it is dropped.
final class HolePuncher: Sendable {
    struct Link {
        let descriptor: Int32
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
            if PeerSocket.connect(fd, to: address, timeout: min(1, max(0.05, deadline.timeIntervalSinceNow))),
               offer(fd, route: "direct to \(name)") {
                return
            }
            close(fd)
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
            if !offer(accepted, route: "direct, accepted on port \(localPort)") { close(accepted) }
        }
    }

    /// Both sides send the token and expect it back; then the chooser says `GO` on the first
    /// such link and the other side waits for it. True if this link became the winner.
    private func offer(_ fd: Int32, route: String) -> Bool {
        let hello = PeerLinkLine.hello(token: token)
        guard PeerSocket.send(fd, hello), PeerSocket.readLinkLine(fd, timeout: 3) == hello else { return false }
        if chooses {
            let won = winner.withLock { winner in
                guard winner == nil else { return false }
                winner = Link(descriptor: fd, route: route)
                return true
            }
            return won && PeerSocket.send(fd, .go)
        }
        guard PeerSocket.readLinkLine(fd, timeout: 5) == .go else { return false }
        return winner.withLock { winner in
            guard winner == nil else { return false }
            winner = Link(descriptor: fd, route: route)
            return true
        }
    }

    /// The fallback: a connection to the server's relay, which splices the two sides.
    static func relay(host: String, port: Int, token: String, key: String) -> Link? {
        guard let address = PeerSocket.address(host, port) ?? resolve(host, port) else { return nil }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        let hello = PeerLinkLine.hello(token: token)
        guard PeerSocket.connect(fd, to: address, timeout: 10), PeerSocket.send(fd, line: ClientCommand.p2pRelay(token: token, key: key).text),
              PeerSocket.readLine(fd, timeout: 35).flatMap({ ServerReply(text: $0) }) == .p2pRelayReady,
              PeerSocket.send(fd, hello), PeerSocket.readLinkLine(fd, timeout: 10) == hello else {
            close(fd)
            return nil
        }
        return Link(descriptor: fd, route: "through the server's relay")
    }

    private static func resolve(_ host: String, _ port: Int) -> sockaddr_in? {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &results) == 0, let first = results else { return nil }
        defer { freeaddrinfo(results) }
        return first.pointee.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
    }
}
