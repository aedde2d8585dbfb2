import ChatProtocol
import NIOCore

/// The per-user message rate (`gateway.messages_per_second`, `gateway.message_burst`): texts,
/// voice and file messages and friend requests each take a token. A message past the rate is
/// not refused: it is held, reading stops, and it goes on when its token is there, as
/// ejabberd's shapers and IRC servers' flood control slow a client down. So nothing a user
/// sends is lost or answered with a reply the contract does not know, replies stay in order,
/// and a flooding client only ever slows itself (TCP pushes back on it meanwhile).
extension ClientSession {
    /// Holds `command` (whose token was not there) until the bucket has one again.
    mutating func holdForMessageRate(_ command: SessionCommand) {
        heldByMessageRate = command
        setPause(.messageRate, true)
        actions.append(.schedule(.messageRate, after: .nanoseconds(messageRate.wait(now: now))))
    }

    /// The `.messageRate` timer, at `now`: the held message goes on if its token is there.
    mutating func messageRateRefilled(at now: NIODeadline) {
        self.now = Int64(clamping: now.uptimeNanoseconds)
        guard let command = heldByMessageRate, !isClosed, case .session(let uid) = phase else { return }
        guard messageRate.take(now: self.now) else {
            // Early by a hair (timers are not exact): wait for the rest.
            return actions.append(.schedule(.messageRate, after: .nanoseconds(max(1, messageRate.wait(now: self.now)))))
        }
        heldByMessageRate = nil
        switch command {
        case .message(let header): expectBody(of: header)
        case .addFriend(let peer): askToAddFriend(peer, owner: uid)
        default: break // only the commands above are ever held
        }
        processLines()
        // Reading resumes only if no later message was held again: a steady flood keeps the
        // socket paused instead of switching it on and off for every message.
        if heldByMessageRate == nil { setPause(.messageRate, false) }
    }
}
