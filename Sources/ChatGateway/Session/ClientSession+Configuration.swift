import ChatRuntime

extension ClientSession.Settings {
    /// The settings the `gateway.*` keys describe; the others keep their defaults.
    init(_ configuration: ChatConfiguration) {
        self.init(
            loginTimeout: .seconds(Int64(configuration.loginTimeoutSeconds)),
            partialLineTimeout: .seconds(Int64(configuration.partialLineTimeoutSeconds)),
            minUploadBytesPerSecond: configuration.minUploadBytesPerSecond,
            dataAnswerTimeout: .seconds(Int64(configuration.dataAnswerTimeoutSeconds)),
            maxFileBytes: configuration.maxFileBytes,
            sendLocalFiles: configuration.sendLocalFiles,
            maxUnsentOutput: configuration.maxQueuedOutputBytesPerConnection,
            relayIdleTimeout: .seconds(Int64(configuration.relayIdleTimeoutSeconds)),
            relayMaxBytes: configuration.relayMaxBytes,
            historyPageBytes: configuration.historyPageBytes,
            messagesPerSecond: configuration.messagesPerSecond,
            messageBurst: configuration.messageBurst)
    }
}
