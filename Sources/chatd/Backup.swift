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
        // What lives in PostgreSQL is not in the data folder: the operator's pg_dump copies it.
        var elsewhere: [String] = []
        if resolved.authBackend == "postgres" { elsewhere.append("accounts (auth.postgres_url)") }
        if resolved.storageBackend == "postgres" {
            elsewhere.append(resolved.storageFilesFolder.isEmpty ? "histories and files (storage.postgres_url)"
                                                                   : "histories (storage.postgres_url)")
        }
        if !resolved.storageFilesFolder.isEmpty { elsewhere.append("file bytes (storage.files_folder, \(resolved.storageFilesFolder))") }
        if !elsewhere.isEmpty {
            print("not in this copy: \(elsewhere.joined(separator: ", ")); back PostgreSQL up with pg_dump and the files folder with a copy "
                + "(docs/operations.md, \"Backup and restore\")")
        }
    }
}
