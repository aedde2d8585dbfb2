/// The reasons a connection stops reading from its socket. TCP then pushes back on the
/// client, so no reason can make the gateway buffer without bound.
struct ReadPauses: OptionSet {
    let rawValue: UInt8

    /// An upload has a full window of bytes not yet confirmed by storage.
    static let uploadWindow = ReadPauses(rawValue: 1)
    /// The other side of a relay cannot take more.
    static let relayPartner = ReadPauses(rawValue: 2)
    /// Lines are waiting behind a gating reply and too many have piled up.
    static let lineBacklog = ReadPauses(rawValue: 4)
    /// The client is not reading what it is sent.
    static let outputBacklog = ReadPauses(rawValue: 8)
    /// The user sent messages faster than `gateway.messages_per_second`.
    static let messageRate = ReadPauses(rawValue: 32)

    mutating func set(_ reason: ReadPauses, _ on: Bool) {
        if on { insert(reason) } else { remove(reason) }
    }
}
