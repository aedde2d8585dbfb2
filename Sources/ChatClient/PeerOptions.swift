/// How the client handles peer-to-peer transfers.
public struct PeerOptions: Sendable {
    /// Accept every offer at once (for scripts).
    public var acceptAutomatically = false
    /// Fall back to the server's relay when no direct connection is made.
    public var allowRelay = true
    /// How long to try connecting directly before falling back.
    public var directTimeoutSeconds = 5.0

    public init() {}
}
