import ChatProtocol

/// Whether the server's reply means the command failed: what script mode's exit status counts.
enum CommandOutcome {
    static func isFailure(_ reply: ServerReply?, answering command: ChatClientSession.Awaited) -> Bool {
        // Asked for by the client itself, and a server without tickets may not know the command.
        if case .resumeTicket = command { return false }
        guard let reply else { return true }
        switch reply {
        case .uidAlreadyExists, .uidNotExits, .wrongPassword, .wrongSignCommand, .wrongInteractCommand, .permissionDenied,
             .fileTooLarge, .invalidFileName, .noSuchFile, .serviceUnavailable, .messageTooLong, .tooManyFailedSignIns,
             .tooManySignUps, .storageQuotaExceeded, .tooManyConnections, .noSuchTransfer, .tooManyOffers, .signedInElsewhere:
            return true
        case .targetUserOffline:
            // A text or file to someone offline is stored all the same; an offer needs them online.
            if case .p2pOffer = command { return true }
            return false
        case .signUpSucceeded, .signInSucceeded, .ok, .noHistoryYet, .p2pOffered, .p2pConnect, .p2pRelayReady, .dataSize, .friends,
             .resumeTicket:
            return false
        }
    }
}
