import ChatProtocol
import Foundation

/// After a lost connection: say so once, tell the user which commands never got their answer
/// (nothing is sent again: a text may have been stored), reconnect with backoff, and sign in
/// again: with the resumption ticket if there is one (a lookup for the server, not a password
/// hash), else (or if it is refused) with the wire hash the user signed in with. Lines typed
/// meanwhile are refused with a note (`enqueue` sends nothing while `online` is false).
extension ChatClientSession {
    /// On the reader thread once the connection ended: true when a new one is in place.
    func reconnectAfterLoss() -> Bool {
        let (unanswered, mayReconnect) = withState {
            online = false
            let unanswered = awaited
            awaited = []
            awaitingSince = nil
            exchangeUnderWay = false
            uploading = false
            // Accepts deferred behind an exchange: their offers came on the lost connection.
            deferredCommands = []
            if uploadDecision == .waiting { uploadDecision = .refused }
            state.broadcast()
            return (unanswered, !quitting && !signedInElsewhere)
        }
        guard mayReconnect else {
            withState { lostForGood = !quitting }
            return false
        }
        // The client's own ticket request is no command of the user's.
        for reply in unanswered where !reply.isTicketRequest { noteUnanswered(reply) }
        guard reconnectSeconds > 0 else {
            output("disconnected from the server")
            withState { lostForGood = true }
            return false
        }
        output("disconnected from the server; reconnecting (lines typed meanwhile are not sent)")
        // A connection lost soon after a reconnect carries on the same attempt: its deadline
        // and backoff, so a server that keeps dropping clients is given up on in the end.
        let recent = withState { reconnectAttempt.flatMap { Date().timeIntervalSince($0.connected) < 30 ? $0 : nil } }
        let deadline = recent?.deadline ?? Date().addingTimeInterval(reconnectSeconds)
        var backoff = recent?.backoff ?? ReconnectBackoff()
        while Date() < deadline {
            guard pause(backoff.next(), until: deadline) else { break }
            guard let fresh = try? LineConnection(to: server) else { continue }
            guard let signedIn = signInAgain(on: fresh) else { continue }
            let attempt = ReconnectAttempt(deadline: deadline, backoff: backoff, connected: Date())
            // The user left while this sign-in was under way: the new connection is not theirs
            // to keep (signing out, it goes offline first, which revokes the device's tickets).
            let (userLeft, signOut) = withState {
                guard !quitting else { return (true, leavesSignedOut) }
                link = fresh
                online = true
                reconnectAttempt = attempt
                state.broadcast()
                return (false, false)
            }
            if userLeft {
                leave(fresh, signingOut: signOut)
                return false
            }
            output(signedIn)
            askForNextTicket()
            return true
        }
        let quit = withState { quitting }
        if !quit { output("could not reconnect within \(Int(reconnectSeconds)) s; giving up") }
        withState { lostForGood = !quit }
        return false
    }

    /// A connection signed in again after the user left: not theirs to keep. Signing out, it
    /// goes offline first (revoking the device's tickets) and waits for the server to close;
    /// leaving with a ticket file, it asks for the next ticket (the resume spent the last) and
    /// keeps it for the next run.
    private func leave(_ fresh: LineConnection, signingOut: Bool) {
        defer { fresh.shutdown() }
        let deadline = Date().addingTimeInterval(5)
        if signingOut {
            try? fresh.send(.offline)
            while fresh.readLine(until: deadline) != nil {}
            return
        }
        guard ticketFile != nil, let uid = withState({ signedInUID }), (try? fresh.send(.resumeTicket(uid: uid))) != nil else { return }
        // Pushes held while the user was away may come first.
        while let line = fresh.readLine(until: deadline) {
            if let ticket = ServerReply.ticket(in: ServerReply(text: line)) { return keepTicket(ticket) }
        }
    }

    /// Waits `seconds`, or less if the user quits; false if they did or the deadline passed.
    private func pause(_ seconds: Double, until deadline: Date) -> Bool {
        let wake = min(deadline, Date().addingTimeInterval(seconds))
        state.lock()
        defer { state.unlock() }
        while !quitting && state.wait(until: wake) {}
        return !quitting && Date() < deadline
    }

    /// Signs in on `fresh` as the user was, before anyone else may send on it: the line to
    /// show once it is in place, or nil to try again later (no answer, or the service is not
    /// back yet). A refused sign-in (the password changed) leaves the user signed out.
    private func signInAgain(on fresh: LineConnection) -> String? {
        guard let (uid, wire) = withState({ signedInUID.map { ($0, signedInWire) } }) else {
            return "reconnected"
        }
        // The user left meanwhile: a ticket is not to be spent on a connection nobody keeps.
        if withState({ quitting }) { return nil }
        if let ticket = withState({ resumeTicket }) {
            // Spent once sent: the server may have used it though its answer never comes, and a
            // used ticket presented again revokes its whole family (docs/protocol.md). Dropped
            // before it goes, so that no crash leaves it behind; the next one is asked for once
            // the connection is in place.
            keepTicket(nil)
            guard (try? fresh.send(.resume(uid: uid, ticket: ticket))) != nil else {
                keepTicket(ticket)
                return nil
            }
            guard let line = fresh.readLine(until: Date().addingTimeInterval(30)) else { return nil }
            switch ServerReply(text: line) {
            case .signInSucceeded?:
                return "reconnected; signed in again as \(uid)"
            case .tooManyFailedSignIns?, .tooManyConnections?:
                // Refused before it was looked at: still good for the next try.
                keepTicket(ticket)
                return nil
            case .wrongPassword?, .wrongSignCommand?:
                // Used, expired or revoked (or a server without tickets): the password hash,
                // on this same connection.
                break
            default:
                return nil
            }
        }
        guard let wire else {
            // Signed in with the saved ticket: no password hash to fall back on.
            withState { signedInUID = nil }
            return "reconnected, but the ticket to sign in again as \(uid) with was refused or is spent; sign in again"
        }
        guard (try? fresh.send(.signIn(uid: uid, password: wire))) != nil,
              let line = fresh.readLine(until: Date().addingTimeInterval(30)) else { return nil }
        switch ServerReply(text: line) {
        case .signInSucceeded?:
            return "reconnected; signed in again as \(uid)"
        case .wrongPassword?, .uidNotExits?:
            withState {
                signedInUID = nil
                signedInWire = nil
            }
            return "reconnected, but signing in again as \(uid) was refused (\(TerminalText.escaped(line))); sign in again"
        default:
            return nil
        }
    }

    /// A command whose reply will never come: what the user should know about it.
    private func noteUnanswered(_ reply: Awaited) {
        withState { failedCommands += 1 }
        switch reply {
        case .send(let peer):
            output("connection lost before the server answered a text to \(peer): it may have been stored; "
                   + "check /history \(peer) before sending it again")
        case .uploadFinal:
            output("connection lost before the server confirmed the file: check /history before sending it again")
        case .signIn, .signUp:
            output("connection lost before the server answered the sign-in or sign-up")
        default:
            output("connection lost before the server answered")
        }
    }
}

/// The reconnect attempt a connection came from: a connection lost soon after carries it on.
struct ReconnectAttempt {
    let deadline: Date
    let backoff: ReconnectBackoff
    let connected: Date
}
