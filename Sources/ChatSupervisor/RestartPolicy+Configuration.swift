import ChatRuntime

extension RestartPolicy {
    /// The policy the `supervisor.*` settings describe.
    public init(_ configuration: ChatConfiguration) {
        self.init(maxRestarts: configuration.maxRestarts, windowSeconds: Double(configuration.restartWindowSeconds),
                  maxBackoffSeconds: Double(configuration.maxBackoffSeconds))
    }
}
