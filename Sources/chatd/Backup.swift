import ArgumentParser
import ChatRuntime
import ChatStorage

struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy every database and stored file into a new folder, while the system runs.",
        discussion: "To restore: stop chatd, then copy the folder over the data folder.")
    @OptionGroup var configuration: ConfigurationOptions
    @Argument(help: "A folder that does not exist yet, or an empty one.")
    var destination: String

    func run() throws {
        let resolved = try configuration.resolve()
        let summary = try DataFolderBackup(dataDirectory: resolved.dataDirectory, destination: destination).run()
        print("backed up \(summary.databases) databases and \(summary.files) stored files (\(summary.fileBytes) bytes) to \(destination)")
    }
}
