import ArgumentParser
import ChatAuth
import ChatStorage

/// Copies an embedded system (SQLite files and a blob folder) into PostgreSQL.
struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy an embedded system's accounts, friends, histories and files into PostgreSQL.",
        discussion: """
            Stop chatd first. Safe to run again: what is already copied is skipped, and a run cut \
            short carries on. Then set storage.backend and auth.backend to "postgres" with this URL.
            """)
    @Option(name: .customLong("from-sqlite"), help: "The embedded system's data folder.")
    var dataDirectory: String
    @Option(help: "A libpq URL, e.g. postgresql:///chat?host=/run/postgresql")
    var to: String
    @Option(help: "Where the system kept file bytes, if storage.files_folder moved them out of the data folder.")
    var filesFolder: String?

    func run() throws {
        // Held from before the first row is copied: no storage worker may run on the folder.
        let stopped = try HistoryMigration.StoppedDataFolder(dataDirectory)
        let accounts = try AccountMigration.run(from: "\(dataDirectory)/auth/accounts.sqlite", to: to)
        print("accounts: \(accounts.users) users, \(accounts.friends) friendships, \(accounts.storedBytes) stored-byte counts copied")
        let histories = try HistoryMigration.run(stopped, filesFolder: filesFolder, to: to)
        print("histories: \(histories.records) rows from \(histories.partitions) partitions, "
            + "\(histories.files) files (\(histories.fileBytes) bytes) copied")
        for missing in histories.missingFiles { print("not copied, its bytes are missing from the data folder: \(missing)") }
    }
}
