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
        guard FileNames.isValidFileName(Array(name.utf8)) else { return fail("error: \(UserInputError.badFileName(name))") }
        guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int64,
              let sha256 = PeerTransfer.digest(of: path), let local = privateEndpoint else {
            return fail("error: \(UserInputError.unreadableFile(path))")
        }
        send(.p2p(uid: uid, .offer(peer: peer, size: size, sha256: sha256, privateEndpoint: local, name: name)),
             awaiting: .p2pOffer(OutgoingTransfer(peer: peer, path: path, name: name, size: size)))
    }

    func answerOffer(_ token: String, accept: Bool) {
        guard let uid = requireSignedIn() else { return }
        if accept {
            guard let local = privateEndpoint else { return fail("error: not connected") }
            send(.p2p(uid: uid, .accept(token: token, privateEndpoint: local)), awaiting: .p2pAccept(token: token))
        } else {
            send(.p2p(uid: uid, .decline(token: token)), awaiting: .p2pDecline)
        }
    }

    /// Where the chat connection is bound on this machine's network, as p2p commands report it.
    private var privateEndpoint: String? {
        connection.localEndpoint.map { Endpoint(host: $0.host, port: Int($0.port)).description }
    }

    /// A `... p2p <verb> ...` push, on the reader thread.
    func showPeerPush(_ push: Push) {
        switch push {
        case .p2pOffer(let sender, _, let token, let size, let sha256, let name):
            withState { incomingOffers[token] = IncomingOffer(sender: sender, name: name, size: size, sha256: sha256) }
            report(ClientEvent(.push, "\(sender) offers \(TerminalText.escaped(name)) (\(size) bytes) directly: /accept \(token) or /decline \(token)",
                               ["kind": .string("p2p offer"), "from": .string(sender), "name": .string(name), "size": .number(size),
                                "token": .string(token)]))
            if peerOptions.acceptAutomatically {
                // From the reader thread: queued without waiting for its reply, and never into
                // the middle of a data exchange.
                guard let uid = withState({ signedInUID }), let local = privateEndpoint else { return }
                enqueueFromReader(.p2p(uid: uid, .accept(token: token, privateEndpoint: local)), awaiting: .p2pAccept(token: token))
            }
        case .p2pConnect(_, _, let token, let peerPublic, let peerPrivate, let relayKey):
            guard let transfer = withState({ outgoingTransfers.removeValue(forKey: token) }) else { return }
            report(ClientEvent(.p2p, "p2p: \(transfer.peer) accepted \(transfer.name)",
                               ["phase": .string("accepted"), "peer": .string(transfer.peer), "name": .string(transfer.name)]))
            startTransfer(token: token, relayKey: relayKey, peerPublic: peerPublic, peerPrivate: peerPrivate, chooses: true) { link in
                try PeerTransfer.send(transfer.path, name: transfer.name, size: transfer.size, over: link, progressEvents: self.progressEvents)
            } describe: { outcome, route in
                "p2p: sent \(transfer.name) to \(transfer.peer) \(route) in \(String(format: "%.2f", outcome.seconds)) s, \(outcome.rate)"
            }
        case .p2pDeclined(let sender, _, let token):
            guard let transfer = withState({ outgoingTransfers.removeValue(forKey: token) }) else { return }
            // The server says so too when the receiver went offline without answering.
            report(ClientEvent(.p2p, "p2p: \(sender) declined \(transfer.name) (or went offline before answering)",
                               ["phase": .string("declined by peer"), "peer": .string(sender), "name": .string(transfer.name)]))
            // Ended for `/wait-p2p`, though no transfer ran.
            withState {
                endedTransfers += 1
                state.broadcast()
            }
        case .message, .addFriend:
            break
        }
    }

    /// The answer to our `p2p accept`: connect and receive.
    func connectToOffer(token: String, peerPublic: String, peerPrivate: String, relayKey: String) {
        guard let offer = withState({ incomingOffers.removeValue(forKey: token) }) else { return }
        startTransfer(token: token, relayKey: relayKey, peerPublic: peerPublic, peerPrivate: peerPrivate, chooses: false) { [self] link in
            try PeerTransfer.receive(name: offer.name, size: offer.size, sha256: offer.sha256, over: link, into: downloads,
                                     progressEvents: progressEvents)
        } describe: { outcome, route in
            "p2p: received \(TerminalText.escaped(offer.name)) from \(offer.sender) \(route) in \(String(format: "%.2f", outcome.seconds)) s, "
                + "\(outcome.rate); saved \(TerminalText.escaped(outcome.detail))"
        }
    }

    /// Punches, with the relay as well after the direct path's head start if allowed, then
    /// runs `work` over the link, on a thread of its own. `relayKey` is this side's own, from
    /// its `p2p connect`; only it lets this side into the relay.
    private func startTransfer(token: String, relayKey: String, peerPublic: String, peerPrivate: String, chooses: Bool,
                               work: @escaping @Sendable (ByteStream) throws -> PeerTransfer.Outcome,
                               describe: @escaping @Sendable (PeerTransfer.Outcome, String) -> String) {
        guard let local = connection.localEndpoint else { return }
        withState { activeTransfers += 1 }
        Thread { [self] in
            defer { transferEnded() }
            let link = punch(token: token, relayKey: relayKey, peerPublic: peerPublic, peerPrivate: peerPrivate,
                             localPort: local.port, chooses: chooses)
            guard let (link, connectSeconds) = link else { return }
            // Cut by `/quit` confirmed while it runs (or just before).
            let cancelled = withState {
                transferLinks[ObjectIdentifier(link.stream)] = link.stream
                return transfersCancelled
            }
            if cancelled { link.stream.shutdown() }
            defer { _ = withState { transferLinks.removeValue(forKey: ObjectIdentifier(link.stream)) } }
            do {
                let outcome = try work(link.stream)
                report(ClientEvent(.p2p, describe(outcome, link.route) + String(format: " (connected in %.2f s)", connectSeconds),
                                   ["phase": .string(chooses ? "sent" : "received"), "route": .string(link.isDirect ? "direct" : "relay"),
                                    "bytes": .number(outcome.bytes), "seconds": .string(String(format: "%.3f", outcome.seconds)),
                                    "connect_seconds": .string(String(format: "%.3f", connectSeconds)), "detail": .string(outcome.detail)]))
            } catch {
                // The error may name the offered file.
                report(ClientEvent(.p2p, "p2p: failed: \(TerminalText.escaped(String(describing: error)))",
                                   ["phase": .string("failed"), "message": .string(String(describing: error))]))
            }
        }.start()
    }

    /// The link to the peer and how long it took, or nil (and the user told why).
    private func punch(token: String, relayKey: String, peerPublic: String, peerPrivate: String, localPort: UInt16,
                       chooses: Bool) -> (HolePuncher.Link, Double)? {
        let options = peerOptions, server = server
        let started = Date()
        let candidates = P2PCandidates.dialable(peerPublic: peerPublic, peerPrivate: peerPrivate)
        if options.directTimeoutSeconds > 0 {
            report(ClientEvent(.p2p, "p2p: connecting directly (\(candidates.map(\.description).joined(separator: ", ")))",
                               ["phase": .string("connecting"), "endpoints": .strings(candidates.map(\.description))]))
        }
        let relay: (@Sendable () -> ByteStream?)?
        if options.allowRelay {
            relay = { HolePuncher.relay(through: server, token: token, key: relayKey) }
        } else {
            relay = nil
        }
        let report = self.report
        let puncher = HolePuncher(localPort: localPort, token: token, chooses: chooses)
        // Cut by `/quit` confirmed while it searches.
        let cancelledAlready = withState {
            punchers[ObjectIdentifier(puncher)] = puncher
            return transfersCancelled
        }
        defer { _ = withState { punchers.removeValue(forKey: ObjectIdentifier(puncher)) } }
        if cancelledAlready { puncher.cancel() }
        let link = puncher.connect(to: candidates, directUntil: started.addingTimeInterval(options.directTimeoutSeconds),
                                   relayAfter: min(options.relayAfterSeconds, options.directTimeoutSeconds),
                                   relay: relay, phase: { report(ClientEvent(.p2p, "p2p: \($0)", ["phase": .string("relay")])) })
        guard let link else {
            if withState({ transfersCancelled }) {
                report(ClientEvent(.p2p, "p2p: cancelled", ["phase": .string("cancelled")]))
                return nil
            }
            report(ClientEvent(.p2p, options.allowRelay ? "p2p: could not reach the peer, directly or through the relay"
                                                        : "p2p: no direct connection could be made, and the relay is refused (--no-relay)",
                               ["phase": .string("unreachable")]))
            return nil
        }
        return (link, Date().timeIntervalSince(started))
    }

    /// Cuts every transfer under way (the user quits): each side then discards what it
    /// received.
    func cancelTransfers() {
        let (links, searches) = withState {
            transfersCancelled = true
            return (Array(transferLinks.values), Array(punchers.values))
        }
        for puncher in searches { puncher.cancel() }
        for link in links { link.shutdown() }
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
