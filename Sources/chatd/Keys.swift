import ArgumentParser
import ChatBus
import ChatRuntime

/// The system's bus key (`<data_dir>/keys/bus.secret`): made on the supervisor's first start,
/// or by this command for processes run without a supervisor, then copied to every machine.
struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make the system's bus key if there is none (or a new one with --rotate), and show its public half.",
        discussion: "Copy the keys folder to every machine of the system; after --rotate, restart every process.")
    @OptionGroup var configuration: ConfigurationOptions
    @Flag(help: "Replace the key in force with a new one.")
    var rotate = false

    func run() throws {
        let resolved = try configuration.resolve()
        let path = BusKeyFile.path(inDataDirectory: resolved.dataDirectory)
        let (keys, created) = try BusKeyFile.create(at: path, rotate: rotate)
        print(created ? "made \(path)" : "\(path) is in force")
        print("public key \(keys.publicKey)")
    }
}

extension ChatConfiguration {
    /// The bus's protection for a process of this configuration: CurveZMQ with the data
    /// folder's key unless `bus.curve` is off.
    func busSecurity() throws -> BusSecurity {
        try BusSecurity.load(curve: busCurve, dataDirectory: dataDirectory)
    }
}
