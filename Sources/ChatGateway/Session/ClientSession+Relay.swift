import ChatBus
import ChatProtocol

/// The relay of peer-to-peer transfers that could not connect directly: a connection that
/// presents an accepted token before signing in waits for its partner, then every byte it
/// reads goes to the partner. Pairing and the partner itself are the connection's business
/// (`RelayRegistry`); the session keeps the phase and the reply.
extension ClientSession {
    mutating func relayChecked(token: String, slot: ReplySequencer.Slot, _ answer: Result<BusMessage, BusRequestError>) {
        guard case .success(.p2pRelayAllowed(true)) = answer else {
            let isAnswer: Bool
            if case .success = answer { isAnswer = true } else { isAnswer = false }
            return finishGated(slot, isAnswer ? .noSuchTransfer : .serviceUnavailable)
        }
        guard !isClosed else { return }
        phase = .relayWaiting(token: token, slot: slot)
        actions.append(.joinRelay(token: token))
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
        // Bytes that came right behind the relay command are already in the framer.
        let early = framer.takeRaw(upTo: Int.max)
        setPause(.lineBacklog, false)
        if !early.isEmpty { actions.append(.relayForward(early)) }
    }

    /// The partner cannot take more (false), or can again (true).
    mutating func relayPartnerWritable(_ isWritable: Bool) {
        setPause(.relayPartner, !isWritable)
    }
}
