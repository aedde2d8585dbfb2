import ChatProtocol
import Foundation
import Synchronization

/// TCP hole punching, with the relay as one more way in: from the local port whose public
/// mapping the server saw, connect to every endpoint of the peer at once (public and private)
/// and listen on that port too, retrying with fresh sockets until the direct deadline; after
/// a head start for the direct path, also open the server's relay. The first link on which
/// both sides present the transfer's token wins, at once: every other attempt is cut. A
/// stranger without the token is dropped.
final class HolePuncher: Sendable {
    struct Link {
        let stream: ByteStream
        /// How it came about, for the user: `direct to 203.0.113.2:40001`.
        let route: String
        var isDirect: Bool { !route.hasPrefix("through") }
    }

    private let localPort: UInt16
    private let token: String
    /// The sender chooses the link (and says `GO` on it); the receiver takes the link that
    /// hears `GO`, so both keep the same one even when several connect.
    private let chooses: Bool
    private enum Outcome {
        case searching
        /// Set once, by whichever link's thread wins first.
        case won(Link)
        /// Called off (`cancel`): nothing wins any more.
        case cancelled
    }

    private let outcome = Mutex(Outcome.searching)
    /// Streams being tried, cut when a winner is decided; by object identity.
    private let attempts = Mutex<[ObjectIdentifier: ByteStream]>([:])
    /// Signalled when a winner is decided or every attempt has ended.
    private let settled = DispatchSemaphore(value: 0)

    init(localPort: UInt16, token: String, chooses: Bool) {
        self.localPort = localPort
        self.token = token
        self.chooses = chooses
    }

    /// The winning link, or nil once every attempt failed. `relay`, when given, opens a
    /// connection to the server's relay, started `relayAfter` seconds in (and at once if the
    /// direct attempts end sooner); `phase` tells the user what is under way.
    func connect(to candidates: [Endpoint], directUntil deadline: Date, relayAfter: Double,
                 relay: (@Sendable () -> ByteStream?)?, phase: @escaping @Sendable (String) -> Void) -> Link? {
        let group = DispatchGroup()
        func spawn(_ body: @escaping @Sendable () -> Void) {
            group.enter()
            Thread { body(); group.leave() }.start()
        }
        let direct = DispatchGroup()
        func spawnDirect(_ body: @escaping @Sendable () -> Void) {
            direct.enter()
            spawn { body(); direct.leave() }
        }
        if deadline > Date() {
            spawnDirect { [self] in listen(until: deadline) }
            // Unique endpoints only: without a NAT the public and private ones are the same.
            var seen: Set<String> = []
            for candidate in candidates where seen.insert(candidate.description).inserted {
                guard let address = PeerSocket.address(candidate.host, candidate.port) else { continue }
                spawnDirect { [self] in dial(address, named: candidate.description, until: deadline) }
            }
        }
        if let relay {
            spawn { [self] in
                // The head start, cut short when the direct attempts are over or one won.
                _ = direct.wait(timeout: .now() + relayAfter)
                guard !isDecided else { return }
                phase("no direct connection yet; trying the server's relay as well (it stores nothing)")
                guard let stream = relay() else { return }
                track(stream)
                // The server answers once both sides are there (or never: cut if direct wins).
                if stream.readLine(timeout: 35).flatMap({ ServerReply(text: $0) }) != .p2pRelayReady
                    || !offer(stream, route: "through the server's relay" + (stream is TLSStream ? " (TLS)" : "")) {
                    untrack(stream)
                }
            }
        }
        group.notify(queue: .global()) { [self] in settled.signal() }
        settled.wait()
        return outcome.withLock { if case .won(let link) = $0 { link } else { nil } }
    }

    private var isDecided: Bool { outcome.withLock { if case .searching = $0 { false } else { true } } }

    /// Calls the search off: every attempt is cut, and `connect` returns nil.
    func cancel() {
        outcome.withLock { if case .searching = $0 { $0 = .cancelled } }
        let all = attempts.withLock { attempts in
            defer { attempts.removeAll() }
            return Array(attempts.values)
        }
        for stream in all { stream.shutdown() }
        settled.signal()
    }

    private func track(_ stream: ByteStream) {
        let cut = attempts.withLock { attempts in
            attempts[ObjectIdentifier(stream)] = stream
            return isDecided
        }
        if cut { stream.shutdown() }
    }

    private func untrack(_ stream: ByteStream) {
        _ = attempts.withLock { $0.removeValue(forKey: ObjectIdentifier(stream)) }
    }

    /// Makes `link` the winner if none is yet, and cuts every other attempt; `announce` runs
    /// before the caller of `connect` may use the link (the chooser's `GO` must come first).
    private func claim(_ link: Link, announce: () -> Bool = { true }) -> Bool {
        let won = outcome.withLock { outcome in
            guard case .searching = outcome else { return false }
            outcome = .won(link)
            return true
        }
        guard won else { return false }
        let announced = announce()
        let others = attempts.withLock { attempts in
            defer { attempts.removeAll() }
            return attempts.values.filter { $0 !== link.stream }
        }
        for stream in others { stream.shutdown() }
        settled.signal()
        return announced
    }

    private func dial(_ address: sockaddr_in, named name: String, until deadline: Date) {
        while !isDecided && Date() < deadline {
            guard let fd = PeerSocket.bound(to: localPort) else {
                Thread.sleep(forTimeInterval: 0.1)
                continue
            }
            let stream = PlainStream(fd)
            track(stream)
            if PeerSocket.connect(fd, to: address, timeout: min(1, max(0.05, deadline.timeIntervalSinceNow))),
               offer(stream, route: "direct to \(name)") {
                return
            }
            untrack(stream)
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
            let stream = PlainStream(accepted)
            track(stream)
            if !offer(stream, route: "direct, accepted on port \(localPort)") { untrack(stream) }
        }
    }

    /// Both sides send the token and expect it back; then the chooser says `GO` on the first
    /// such link and the other side waits for it. True if this link became the winner; a link
    /// that did not win is closed when `stream` goes.
    private func offer(_ stream: ByteStream, route: String) -> Bool {
        let hello = PeerLinkLine.hello(token: token)
        guard stream.send(hello), stream.readLinkLine(timeout: 3) == hello else { return false }
        if chooses {
            return claim(Link(stream: stream, route: route)) { stream.send(.go) }
        }
        guard stream.readLinkLine(timeout: 5) == .go else { return false }
        return claim(Link(stream: stream, route: route))
    }

    /// A connection to the server's relay (on the chat connection's port, so in TLS when that
    /// is) that has asked for this transfer's pairing; `connect` waits for the pairing.
    static func relay(through server: ServerAddress, token: String, key: String) -> ByteStream? {
        guard let stream = try? server.connect(ownPort: false),
              stream.send(line: ClientCommand.p2pRelay(token: token, key: key).text) else { return nil }
        return stream
    }
}
