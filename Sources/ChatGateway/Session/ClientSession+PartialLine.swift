/// The partial-line deadline: a connection that leaves part of a line unfinished for too long
/// is closed, counted from the last line end received, so a client streaming long lines is
/// not cut off.
extension ClientSession {
    /// Whether the deadline runs, and which scheduled timer is the live one.
    struct PartialLineTimer {
        var isArmed = false
        var generation = 0
        /// `framer.lineEndsReceived` when it was armed.
        var lineEndsAtArming = 0
    }

    mutating func armPartialLineTimer() {
        guard framer.hasPartialLine, upload == nil, !isRelaying else {
            if partialLineTimer.isArmed {
                partialLineTimer.isArmed = false
                partialLineTimer.generation += 1
            }
            return
        }
        guard !partialLineTimer.isArmed else { return }
        partialLineTimer.isArmed = true
        partialLineTimer.lineEndsAtArming = framer.lineEndsReceived
        actions.append(.schedule(.partialLine(generation: partialLineTimer.generation), after: settings.partialLineTimeout))
    }

    mutating func partialLineTimerFired(generation: Int) {
        guard partialLineTimer.isArmed, generation == partialLineTimer.generation else { return }
        partialLineTimer.isArmed = false
        if framer.lineEndsReceived != partialLineTimer.lineEndsAtArming || heldByMessageRate != nil {
            // Lines kept completing, or the message rate keeps us from reading them: only the
            // newest one is unfinished, and not for the client's slowness. Start over.
            return armPartialLineTimer()
        }
        close(.partialLineTimeout)
    }
}
