import ChatBus
import ChatProtocol

/// The relay of peer-to-peer transfers that could not connect directly: a connection that
/// presents an accepted token and its side's key before signing in waits for its partner,
/// then every byte it reads goes to the partner, up to the offered size and a margin
/// (`RelayTraffic`), for as long as bytes keep coming. Pairing and the partner itself are the
/// connection's business (`RelayRegistry`); the session keeps the phase and the reply.
extension ClientSession {
    /// `p2p relay <token> <key>`; the keyless form of earlier clients proves no side, so no relay grants it.
    mutating func requestRelay(token: String, key: String?) {
        guard let key else { return reply(.noSuchTransfer) }
        let slot = reserveGated()
        actions.append(.request(.p2pRelayCheck(token: token, key: key), to: .router, then: .relayCheck(slot, token: token)))
    }

    mutating func relayChecked(token: String, slot: ReplySequencer.Slot, _ answer: Result<BusMessage, BusRequestError>) {
        switch answer {
        case .success(.p2pRelayAllowed(let offeredSize)) where offeredSize <= settings.relayMaxBytes:
            guard !isClosed else { return }
            relayTraffic = RelayTraffic(offeredSize: offeredSize)
            phase = .relayWaiting(token: token, slot: slot)
            actions.append(.joinRelay(token: token))
        case .success:
            // Refused by the router, or too large to relay here: the same to the client.
            finishGated(slot, .noSuchTransfer)
        case .failure:
            finishGated(slot, .serviceUnavailable)
        }
    }

    /// No partner was waiting: wait for one, a while.
    mutating func waitForRelayPartner() {
        actions.append(.schedule(.relayPartner, after: settings.relayPartnerWait))
    }

    /// The partner is there: answer `p2p relay ready`, then pass on everything read.
    mutating func relayStarted() {
        guard case .relayWaiting(_, let slot) = phase else { return }
        phase = .relay
        finish(slot, .p2pRelayReady)
        awaitingGatingReply = false
        actions.append(.schedule(.relayIdle, after: settings.relayIdleTimeout))
        // Bytes that came right behind the relay command are already in the framer.
        let early = framer.takeRaw(upTo: Int.max)
        setPause(.lineBacklog, false)
        if !early.isEmpty { early.withUnsafeBytes { relayReceived($0) } }
    }

    /// Bytes read from this side, for the partner: past the cap both sides are closed (this
    /// one here, the partner when it learns this one left).
    mutating func relayReceived(_ bytes: UnsafeRawBufferPointer) {
        // Closed, nothing more goes on, though the connection may still read a while (under
        // TLS its close waits for the client's own).
        guard !isClosed else { return }
        guard relayTraffic?.take(bytes.count) == true else { return close(.relayOverCap) }
        actions.append(.relayForward(Array(bytes)))
    }

    /// Bytes from the partner, for this side's client.
    mutating func relayDelivered(_ bytes: [UInt8]) {
        relayTraffic?.delivered()
        write(bytes)
    }

    mutating func relayIdleCheck() {
        guard case .relay = phase, !isClosed else { return }
        if relayTraffic?.checkIdle() ?? true { return close(.relayIdle) }
        actions.append(.schedule(.relayIdle, after: settings.relayIdleTimeout))
    }

    /// The partner cannot take more (false), or can again (true).
    mutating func relayPartnerWritable(_ isWritable: Bool) {
        setPause(.relayPartner, !isWritable)
    }
}
