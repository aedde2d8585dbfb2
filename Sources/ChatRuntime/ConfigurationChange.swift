/// What a reload does with a newly read configuration: the settings that changed and can
/// change live are taken; those that need a restart are named and left as they were.
public struct ConfigurationChange: Equatable, Sendable {
    /// Live settings whose value changed, by dotted key, sorted.
    public let applied: [String]
    /// Settings whose value changed but that a running process cannot take, sorted.
    public let needsRestart: [String]
    /// The configuration to run with now: `current`, with the new values of `applied`.
    public let result: ChatConfiguration

    public init(from current: ChatConfiguration, to new: ChatConfiguration) {
        var result = current
        var applied: [String] = []
        var needsRestart: [String] = []
        for (key, setting) in ChatConfiguration.settings.sorted(by: { $0.key < $1.key }) where !setting.isSame(current, new) {
            if setting.isLive(from: current, to: new) {
                setting.copy(&result, new)
                applied.append(key)
            } else {
                needsRestart.append(key)
            }
        }
        self.applied = applied
        self.needsRestart = needsRestart
        self.result = result
    }

    /// The keys a running process takes on reload.
    public static var liveKeys: [String] {
        ChatConfiguration.settings.filter(\.value.live).keys.sorted()
    }

    /// The keys that need a restart to change.
    public static var restartKeys: [String] {
        ChatConfiguration.settings.filter { !$0.value.live }.keys.sorted()
    }
}
