import ChatProtocol
import Foundation

/// Peer-to-peer transfers: the server introduces the peers (tokens and endpoints); the file
/// goes over a direct TCP connection made by hole punching, or through the relay when none
/// can be made.
extension ChatClientSession {
    struct OutgoingTransfer {
        let peer: String
        let path: String
        let name: String
        let size: Int64
    }

    struct IncomingOffer {
        let sender: String
        let name: String
        let size: Int64
        let sha256: String
    }

    func offer(_ path: String, to peer: String) {
        guard let uid = requireSignedIn() else { return }
        let name = URL(fileURLWithPath: path).lastPathComponent
        guard FileNames.isValidFileName(Array(name.utf8)) else { return output("error: \(UserInputError.badFileName(name))") }
        guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int64,
              let sha256 = PeerTransfer.digest(of: path), let local = connection.localEndpoint else {
            return output("error: \(UserInputError.unreadableFile(path))")
        }
        send("\(uid) p2p offer \(peer) \(size) \(sha256) \(local.host):\(local.port) \(name)",
             awaiting: .p2pOffer(OutgoingTransfer(peer: peer, path: path, name: name, size: size)))
    }

    func answerOffer(_ token: String, accept: Bool) {
        guard let uid = requireSignedIn() else { return }
        if accept {
            guard let local = connection.localEndpoint else { return output("error: not connected") }
            send("\(uid) p2p accept \(token) \(local.host):\(local.port)", awaiting: .p2pAccept(token: token))
        } else {
            send("\(uid) p2p decline \(token)", awaiting: .p2pDecline)
        }
    }

    /// A `... p2p <verb> ...` push, on the reader thread.
    func showPeerPush(from sender: String, _ words: [String]) {
        switch (words.first, words.count) {
        case ("offer", 5...):
            let token = words[1]
            guard let size = Int64(words[2]) else { return }
            let name = words[4...].joined(separator: " ")
            withState { incomingOffers[token] = IncomingOffer(sender: sender, name: name, size: size, sha256: words[3]) }
            output("\(sender) offers \(name) (\(size) bytes) directly: /accept \(token) or /decline \(token)")
            if peerOptions.acceptAutomatically {
                // From the reader thread: queue the command without waiting for its reply.
                guard let uid = withState({ signedInUID }), let local = connection.localEndpoint else { return }
                try? enqueue("\(uid) p2p accept \(token) \(local.host):\(local.port)", awaiting: .p2pAccept(token: token))
            }
        case ("connect", 4):
            guard let transfer = withState({ outgoingTransfers.removeValue(forKey: words[1]) }) else { return }
            startTransfer(token: words[1], peerEndpoints: [words[2], words[3]], chooses: true) { [self] fd in
                try PeerTransfer.send(transfer.path, name: transfer.name, size: transfer.size, over: fd)
            } describe: { outcome, route in
                "p2p: sent \(transfer.name) to \(transfer.peer) \(route) in \(String(format: "%.2f", outcome.seconds)) s, \(outcome.rate)"
            }
        case ("declined", 2):
            guard let transfer = withState({ outgoingTransfers.removeValue(forKey: words[1]) }) else { return }
            output("p2p: \(sender) declined \(transfer.name)")
            transferEnded()
        default:
            output("\(sender): \(words.joined(separator: " "))")
        }
    }

    /// The answer to our `p2p accept`: connect and receive.
    func connectToOffer(token: String, peerPublic: String, peerPrivate: String) {
        guard let offer = withState({ incomingOffers.removeValue(forKey: token) }) else { return }
        startTransfer(token: token, peerEndpoints: [peerPublic, peerPrivate], chooses: false) { [self] fd in
            try PeerTransfer.receive(name: offer.name, size: offer.size, sha256: offer.sha256, over: fd, into: downloads)
        } describe: { outcome, route in
            "p2p: received \(offer.name) from \(offer.sender) \(route) in \(String(format: "%.2f", outcome.seconds)) s, \(outcome.rate); saved \(outcome.detail)"
        }
    }

    /// Punches, falls back to the relay if allowed, then runs `work` over the link, on a thread of its own.
    private func startTransfer(token: String, peerEndpoints: [String], chooses: Bool, work: @escaping (Int32) throws -> PeerTransfer.Outcome,
                               describe: @escaping (PeerTransfer.Outcome, String) -> String) {
        guard let local = connection.localEndpoint else { return }
        withState { activeTransfers += 1 }
        let options = peerOptions, host = serverHost, port = serverPort
        Thread { [self] in
            defer { transferEnded() }
            let started = Date()
            let candidates = peerEndpoints.compactMap { Endpoint($0) }
            let deadline = Date().addingTimeInterval(options.directTimeoutSeconds)
            var link = HolePuncher(localPort: local.port, token: token, chooses: chooses).connect(to: candidates, until: deadline)
            if link == nil {
                guard options.allowRelay else {
                    return output("p2p: no direct connection could be made, and the relay is refused (--no-relay)")
                }
                output("p2p: no direct connection could be made; going through the server's relay (it stores nothing)")
                link = HolePuncher.relay(host: host, port: port, token: token)
            }
            guard let link else { return output("p2p: could not reach the peer, directly or through the relay") }
            defer { close(link.descriptor) }
            let connectSeconds = Date().timeIntervalSince(started)
            do {
                output(describe(try work(link.descriptor), link.route) + String(format: " (connected in %.2f s)", connectSeconds))
            } catch {
                output("p2p: failed: \(error)")
            }
        }.start()
    }

    func transferEnded() {
        withState {
            activeTransfers = max(0, activeTransfers - 1)
            endedTransfers += 1
            state.broadcast()
        }
    }

    func waitForTransfers(count: Int, seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        state.lock()
        while endedTransfers < count && state.wait(until: deadline) {}
        state.unlock()
    }
}
