/// One process the supervisor keeps running.
public struct ChildSpec: Sendable, Equatable {
    /// Unique and readable: `auth`, `router`, `storage-0`, `gateway`.
    public let name: String
    /// Arguments after the executable.
    public let arguments: [String]

    public init(name: String, arguments: [String]) {
        self.name = name
        self.arguments = arguments
    }
}
