import ChatBus
import CoreMetrics

/// The router's figures, made once per process: a stored text's delivery decision costs one
/// atomic increment.
struct RouterMetrics {
    /// Stored texts pushed to their recipient, online on some gateway.
    let textsDelivered = Counter(label: "chat_texts_delivered_total")
    /// Stored texts answered `Target user offline`: the recipient reads them in the history.
    let textsOffline = Counter(label: "chat_texts_offline_total")

    func count(_ answer: BusMessage) {
        switch answer {
        case .deliveredPush, .delivery(.delivered): textsDelivered.increment()
        case .delivery(.recipientOffline): textsOffline.increment()
        default: break
        }
    }
}
