import ChatBus
import ChatProtocol

/// The commands of the login and session phases: each becomes a reserved reply slot and a
/// bus request (or a refusal at once), the step waiting for the answer named in the request.
extension ClientSession {
    // MARK: Login phase

    mutating func handleLogin(_ line: [UInt8]) {
        guard let command = LoginCommand(line: line) else { return reply(.wrongSignCommand) }
        switch command {
        case .offline:
            closeAfterReplies()
        case .p2pRelay(let token, let key):
            requestRelay(token: token, key: key)
        case .signUp(let uid, let password):
            let slot = reserveGated()
            // With the address, its hash counts against that address's share of auth's queue.
            let request: BusMessage = addressKey.map { .signUpFrom(uid: uid, password: password, address: $0) }
                ?? .signUp(uid: uid, password: password)
            actions.append(.request(request, to: .auth, then: .signUp(slot)))
        case .signIn(let uid, let password):
            let slot = reserveGated()
            // With the address, auth counts failures per address as well as per account.
            let request: BusMessage = addressKey.map { .signInFrom(uid: uid, password: password, address: $0) }
                ?? .signIn(uid: uid, password: password)
            actions.append(.request(request, to: .auth, then: .signIn(slot, uid: uid)))
        case .resume(let uid, let ticket):
            // A sign-in as any other from here on: the same answers, the same attach.
            let slot = reserveGated()
            actions.append(.request(.resumeFrom(uid: uid, ticket: ticket, address: addressKey ?? ""), to: .auth,
                                    then: .signIn(slot, uid: uid)))
        }
    }

    mutating func attached(uid: String, slot: ReplySequencer.Slot, _ answer: Result<BusMessage, BusRequestError>) {
        guard case .success(.attached) = answer else {
            // The router may have attached us and only the answer got lost: take it back.
            actions.append(.send(.detach(uid: uid, connection: connectionId), to: .router))
            return finishGated(slot, .serviceUnavailable)
        }
        guard !isClosed else {
            // Gone while signing in: take the presence back.
            actions.append(.send(.detach(uid: uid, connection: connectionId), to: .router))
            return
        }
        phase = .session(uid: uid)
        parser = SessionCommandParser(uid: uid)
        actions.append(.note(.signedIn(uid: uid)))
        finishGated(slot, .signInSucceeded)
    }

    // MARK: Session phase

    mutating func handleSession(_ line: [UInt8]) {
        guard case .session(let uid) = phase, let parser else { return }
        switch parser.parse(line) {
        case .refused(let refusal):
            reply(refusal)
        case .refusedTwoLine(let refusal):
            expectation = .droppedContent(reply: refusal)
        case .command(.offline):
            // Signed out: this device's resumption tickets stop working (other devices keep theirs).
            if let ticketFamily { actions.append(.send(.revokeTickets(uid: uid, family: ticketFamily), to: .auth)) }
            closeAfterReplies()
        case .command(.resumeTicket):
            let slot = reserve()
            let family = ticketFamily ?? Self.newTicketFamily()
            ticketFamily = family
            actions.append(.request(.issueTicket(uid: uid, family: family), to: .auth, then: .resumeTicket(slot)))
        case .command(.message(let header)):
            // The message rate's one check per message; past it the message waits, and so do
            // the lines behind it.
            guard messageRate.take(now: now) else { return holdForMessageRate(.message(header)) }
            expectBody(of: header)
        case .command(.addFriend(let peer)):
            guard messageRate.take(now: now) else { return holdForMessageRate(.addFriend(peer: peer)) }
            askToAddFriend(peer, owner: uid)
        case .command(.p2p(let command)):
            introduce(command, uid: uid)
        case .command(.friends):
            let slot = reserve()
            actions.append(.request(.listFriends(owner: uid), to: .auth, then: .listFriends(slot)))
        case .command(.historyAll(let peer)):
            askWhetherUserExists(peer, slot: reserveGated(), then: .openHistory(PairKey(uid, peer)))
        case .command(.historyFile(let peer, let name)):
            askWhetherUserExists(peer, slot: reserveGated(), then: .openDownload(PairKey(uid, peer), name: name))
        }
    }

    /// 64 random bits, as `Identifiers.isTicketFamily` has them: a name, not a secret.
    static func newTicketFamily() -> String {
        let digits = String(UInt64.random(in: .min ... .max), radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// A message's first line was read (and counted): its second line comes next.
    mutating func expectBody(of header: MessageHeader) {
        switch header.kind {
        case .text: expectation = .content(header)
        case .audio, .file: expectation = .attachmentName(header)
        }
    }

    mutating func askToAddFriend(_ peer: String, owner uid: String) {
        let slot = reserve()
        actions.append(.request(.addFriend(owner: uid, friend: peer), to: .auth, then: .addFriend(slot, owner: uid, peer: peer)))
    }

    /// Peer-to-peer commands: the router introduces the peers; nothing is stored.
    mutating func introduce(_ command: P2PCommand, uid: String) {
        let request: BusMessage
        switch command {
        case .offer(let peer, let size, let sha256, let privateEndpoint, let name):
            request = .p2pOffer(from: uid, to: peer, size: size, sha256: sha256, name: name, privateEndpoint: privateEndpoint)
        case .accept(let token, let privateEndpoint):
            request = .p2pAccept(by: uid, token: token, privateEndpoint: privateEndpoint)
        case .decline(let token):
            request = .p2pDecline(by: uid, token: token)
        }
        actions.append(.request(request, to: .router, then: .p2p(reserve())))
    }

    mutating func handleContent(_ content: [UInt8], of header: MessageHeader) {
        guard Identifiers.isValidUTF8(content) else { return reply(.wrongInteractCommand) }
        let record = HistoryRecord.bytes(headerLine: header.line, body: content)
        actions.append(.storeText(from: header.sender, to: header.recipient, record: record, slot: reserve()))
    }

    mutating func askWhetherUserExists(_ peer: String, slot: ReplySequencer.Slot, then next: AfterUserExists) {
        actions.append(.request(.userExists(uid: peer), to: .auth, then: .userExists(slot, then: next)))
    }

    mutating func userExists(slot: ReplySequencer.Slot, then next: AfterUserExists) {
        switch next {
        case .openHistory(let pair):
            actions.append(.request(.openHistory(pair: pair), to: .storage(pair), then: .openHistory(slot, pair: pair)))
        case .beginUpload(let header, let name):
            beginUpload(header, name: name, slot: slot)
        case .openDownload(let pair, let name):
            // A name no upload could have had names nothing stored (and storage refuses it).
            guard FileNames.isValidStoredName(Array(name.utf8)) else { return finishGated(slot, .noSuchFile) }
            actions.append(.request(.openDownload(pair: pair, name: name), to: .storage(pair), then: .openDownload(slot, pair: pair, name: name)))
        }
    }
}
