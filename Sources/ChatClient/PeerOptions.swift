/// How the client handles peer-to-peer transfers.
public struct PeerOptions: Sendable {
    /// Accept every offer at once (for scripts).
    public var acceptAutomatically = false
    /// Fall back to the server's relay when no direct connection is made.
    public var allowRelay = true
    /// How long to try connecting directly.
    public var directTimeoutSeconds = 5.0
    /// The direct path's head start: the relay is tried as well from then on.
    public var relayAfterSeconds = 1.0

    public init() {}
}
