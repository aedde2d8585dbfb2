import CZeroMQ

public enum SocketType: Int32 {
    case router, dealer, pair, push, pull, rep

    public var rawValue: Int32 {
        switch self {
        case .router: return ZMQ_ROUTER
        case .dealer: return ZMQ_DEALER
        case .pair: return ZMQ_PAIR
        case .push: return ZMQ_PUSH
        case .pull: return ZMQ_PULL
        case .rep: return ZMQ_REP
        }
    }
}
