import ChatProtocol
import NIOCore

/// The relay of peer-to-peer transfers that could not connect directly: two connections
/// presenting the same accepted token are spliced together, bytes passed both ways as they
/// come, nothing stored. Each side reads only while the other can take more.
extension ClientConnection {
    static let relayPartnerWait = TimeAmount.seconds(30)

    func joinRelay(token: String) {
        let slot = reserveGated()
        bus.request(.p2pRelayCheck(token: token), to: .router, on: eventLoop) { [self] result in
            guard case .success(.p2pRelayAllowed(true)) = result else {
                return finishGated(slot, result.isSuccess ? .noSuchTransfer : .serviceUnavailable)
            }
            guard context != nil else { return }
            phase = .relayWaiting(token: token)
            if let partner = relays.join(token, self) {
                // The partner's `p2p relay ready` is queued before any byte we forward to it.
                partner.eventLoop.execute { partner.startRelay(with: self, slot: nil) }
                startRelay(with: partner, slot: slot)
            } else {
                pendingRelaySlot = slot
                eventLoop.scheduleTask(in: Self.relayPartnerWait) { [self] in
                    guard case .relayWaiting = phase else { return }
                    relays.leave(token, self)
                    logger.debug("relay partner never came")
                    close()
                }
            }
        }
    }

    /// Splices this connection to `partner`; `slot` is this side's reply slot when known.
    func startRelay(with partner: ClientConnection, slot: ReplySequencer.Slot?) {
        guard context != nil else { return partner.eventLoop.execute { partner.close() } }
        phase = .relay(partner: partner)
        finish(slot ?? pendingRelaySlot!, .p2pRelayReady)
        awaitingGatingReply = false
        // Bytes that came right behind the relay command are already in the framer.
        let early = framer.takeRaw(upTo: Int.max)
        readPauses.remove(.lineBacklog)
        if !early.isEmpty { partner.relayWrite(early) }
    }

    /// Called on this connection's event loop with bytes from the partner.
    func relayWrite(_ bytes: [UInt8]) {
        eventLoop.execute { [self] in
            write(bytes)
        }
    }

    /// Forwards what was read to the partner; stops reading while the partner is backed up.
    func relayRead(_ buffer: ByteBuffer, to partner: ClientConnection) {
        partner.relayWrite(Array(buffer.readableBytesView))
        if !partner.channel.isWritable { readPauses.insert(.relayPartner) }
    }

    func relayWritabilityChanged() {
        guard case .relay(let partner) = phase, channel.isWritable else { return }
        partner.eventLoop.execute { partner.readPauses.remove(.relayPartner) }
    }

    func relayClosed() {
        switch phase {
        case .relay(let partner): partner.eventLoop.execute { partner.close() }
        case .relayWaiting(let token): relays.leave(token, self)
        default: break
        }
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
