import CSQLite

extension Database {
    /// Copies this database into a new database file at `path` with SQLite's online backup API,
    /// while other connections keep writing to it.
    ///
    /// All pages in one step: one read transaction, so the copy is one committed state. In WAL
    /// mode a reader never blocks writers, so the system runs on meanwhile. (Step by step, a
    /// write from another connection would restart the copy.)
    public func backUp(to path: String) throws {
        let destination = try Database(path: path)
        guard let backup = sqlite3_backup_init(destination.handle, "main", handle, "main") else {
            throw destination.lastError(sqlite3_errcode(destination.handle))
        }
        var result = sqlite3_backup_step(backup, -1)
        // Busy or locked only while another connection holds a lock it is about to give up
        // (a checkpoint, a rollback-journal writer): wait and go on, up to the busy timeout.
        var waitedMilliseconds: Int32 = 0
        while result == SQLITE_BUSY || result == SQLITE_LOCKED, waitedMilliseconds < 5_000 {
            waitedMilliseconds += sqlite3_sleep(50)
            result = sqlite3_backup_step(backup, -1)
        }
        let finished = sqlite3_backup_finish(backup)
        guard result == SQLITE_DONE else { throw SQLiteError(code: result, message: "backup of \(path): \(String(cString: sqlite3_errstr(result)))") }
        guard finished == SQLITE_OK else { throw destination.lastError(finished) }
    }
}
