import ChatBus
import ChatProtocol

/// Turns worker answers into client replies, in one place. Any bus failure (timeout, worker
/// down, worker error) is `Service unavailable`: the command may or may not have taken effect.
enum ReplyMapping {
    typealias Answer = Result<BusMessage, BusRequestError>

    static func signUp(_ answer: Answer) -> ServerReply {
        switch answer {
        case .success(.authOutcome(.signedUp)): return .signUpSucceeded
        case .success(.authOutcome(.uidTaken)): return .uidAlreadyExists
        case .success(.signUpThrottled): return .tooManySignUps
        default: return .serviceUnavailable
        }
    }

    static func signIn(_ answer: Answer) -> ServerReply {
        switch answer {
        case .success(.authOutcome(.signedIn)), .success(.resumed): return .signInSucceeded
        case .success(.authOutcome(.unknownUid)): return .uidNotExits
        case .success(.authOutcome(.wrongPassword)): return .wrongPassword
        case .success(.signInThrottled): return .tooManyFailedSignIns
        default: return .serviceUnavailable
        }
    }

    static func addFriend(_ answer: Answer) -> ServerReply {
        switch answer {
        case .success(.authOutcome(.friendAdded)), .success(.authOutcome(.alreadyFriends)): return .ok
        case .success(.authOutcome(.unknownUid)): return .uidNotExits
        default: return .serviceUnavailable
        }
    }

    static func p2p(_ answer: Answer) -> ServerReply {
        switch answer {
        case .success(.p2pOffered(let token)): return .p2pOffered(token: token)
        case .success(.p2pConnect(let token, let peerPublic, let peerPrivate, let relayKey)):
            return .p2pConnect(token: token, peerPublic: peerPublic, peerPrivate: peerPrivate, relayKey: relayKey)
        case .success(.p2pDeclined): return .ok
        case .success(.p2pUnknown): return .noSuchTransfer
        case .success(.p2pTooManyOffers): return .tooManyOffers
        default: return delivery(answer)
        }
    }

    static func delivery(_ answer: Answer) -> ServerReply {
        switch answer {
        case .success(.delivery(.delivered)), .success(.deliveredPush): return .ok
        case .success(.delivery(.recipientOffline)): return .targetUserOffline
        case .success(.delivery(.unknownRecipient)): return .uidNotExits
        default: return .serviceUnavailable
        }
    }
}
