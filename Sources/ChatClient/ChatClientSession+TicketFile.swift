import ChatProtocol
import Foundation

/// The resumption ticket kept across runs (`chat --ticket-file`): saved whenever a new one
/// comes, removed once it is spent or the user signs out, and used at start to sign in
/// without the password.
extension ChatClientSession {
    /// The ticket to resume with next, or none; mirrored in the ticket file when there is one.
    func keepTicket(_ ticket: String?) {
        let uid = withState {
            resumeTicket = ticket
            return signedInUID
        }
        guard let ticketFile else { return }
        guard let ticket, let uid else { return ticketFile.remove() }
        do {
            try ticketFile.save(TicketFile.Saved(uid: uid, ticket: ticket))
        } catch {
            output("\(error); the ticket is kept in memory only")
        }
    }

    /// At start: signs in with the ticket the file holds, if any, before the first command is
    /// read (that command may need the user signed in). The ticket is spent once sent.
    func resumeWithSavedTicket() {
        guard let ticketFile else { return }
        let saved: TicketFile.Saved?
        do {
            saved = try ticketFile.load()
        } catch {
            return output("\(error); sign in with /signin")
        }
        guard let saved else { return }
        keepTicket(nil)
        output("signing in as \(saved.uid) with the ticket saved in \(ticketFile.path)")
        guard (try? enqueue(.resume(uid: saved.uid, ticket: saved.ticket), awaiting: .signIn(uid: saved.uid, wire: nil))) != nil else {
            return fail("error: not connected")
        }
        waitForReplies()
    }
}
