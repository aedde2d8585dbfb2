import ChatProtocol
import Foundation

/// The resumption ticket kept across runs (`chat --ticket-file`): saved whenever a new one
/// comes, removed once it is spent or the user signs out, and used at start to sign in
/// without the password.
extension ChatClientSession {
    /// The ticket to resume with next, or none; mirrored in the ticket file when there is one.
    /// Once signed out, a ticket still arriving (asked for before) is not kept.
    func keepTicket(_ ticket: String?) {
        // The file follows the state in the same order, whichever thread keeps a ticket.
        ticketFileOrder.lock()
        defer { ticketFileOrder.unlock() }
        let uid: String?? = withState {
            if ticket != nil && ticketsEnded { return .none }
            resumeTicket = ticket
            return .some(signedInUID)
        }
        guard let ticketFile, let uid else { return }
        guard let ticket, let uid else { return ticketFile.remove() }
        do {
            try ticketFile.save(TicketFile.Saved(uid: uid, ticket: ticket))
        } catch {
            output("\(error); the ticket is kept in memory only")
        }
    }

    /// At start, before the reader runs and any command is read (it may need the user signed
    /// in): signs in on the connection with the ticket the file holds, if any; whether it did.
    /// The ticket is spent once sent, unless the server refused to look at it.
    func resumeWithSavedTicket() -> Bool {
        guard let ticketFile else { return false }
        let saved: TicketFile.Saved?
        do {
            saved = try ticketFile.load()
        } catch {
            output("\(error); sign in with /signin")
            return false
        }
        guard let saved else { return false }
        output("signing in as \(saved.uid) with the ticket saved in \(ticketFile.path)")
        let link = connection
        // Removed before the ticket goes, so that no crash leaves a spent one behind.
        ticketFile.remove()
        guard (try? link.send(.resume(uid: saved.uid, ticket: saved.ticket))) != nil else {
            try? ticketFile.save(saved)
            fail("error: not connected to the server; the saved ticket is kept")
            return false
        }
        guard let line = link.readLine(until: Date().addingTimeInterval(replyLimit)) else {
            // Its answer may still come: the connection is given up, so it never pairs with a
            // later command; the reader reconnects.
            link.shutdown()
            fail("error: no answer to the sign-in with the saved ticket; sign in with /signin")
            return false
        }
        showReply(line)
        switch ServerReply(text: line) {
        case .signInSucceeded?:
            withState {
                signedInUID = saved.uid
                signedInWire = nil
            }
            return true
        case .tooManyFailedSignIns?, .tooManyConnections?:
            // Refused before the ticket was looked at: still good later.
            try? ticketFile.save(saved)
            fail("error: the server refused to look at the saved ticket now; it is kept for the next run")
        default:
            fail("error: the ticket saved in \(ticketFile.path) was refused; sign in as \(saved.uid) with /signin")
        }
        return false
    }
}
