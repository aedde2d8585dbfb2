import CSQLite

/// One SQLite connection. Use it from one thread at a time.
public final class Database {
    let handle: OpaquePointer

    /// Opens the database file at `path`, creating it if needed unless `create` is false.
    public init(path: String, create: Bool = true) throws {
        var connection: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX
        let result = sqlite3_open_v2(path, &connection, flags, nil)
        guard result == SQLITE_OK, let connection else {
            let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let connection { sqlite3_close_v2(connection) }
            throw SQLiteError(code: result, message: "\(message) (\(path))")
        }
        handle = connection
        sqlite3_busy_timeout(handle, 5_000)
    }

    /// BEGIN, COMMIT and ROLLBACK, prepared once: `sqlite3_exec` would parse them for every
    /// transaction, and storage runs thousands a second.
    private var begin: OpaquePointer?
    private var commit: OpaquePointer?
    private var rollback: OpaquePointer?

    deinit {
        for statement in [begin, commit, rollback] { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let result = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if result != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? "unknown"
            sqlite3_free(errorMessage)
            throw SQLiteError(code: result, message: message)
        }
    }

    public func prepare(_ sql: String) throws -> Statement {
        var statement: OpaquePointer?
        let result = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard result == SQLITE_OK, let statement else { throw lastError(result) }
        return Statement(handle: statement, database: self)
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try run(&begin, "BEGIN IMMEDIATE")
        do {
            let value = try body()
            try run(&commit, "COMMIT")
            return value
        } catch {
            try? run(&rollback, "ROLLBACK")
            throw error
        }
    }

    /// Steps a statement prepared on first use and kept in `cached`.
    private func run(_ cached: inout OpaquePointer?, _ sql: String) throws {
        if cached == nil {
            let result = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &cached, nil)
            guard result == SQLITE_OK, cached != nil else { throw lastError(result) }
        }
        let result = sqlite3_step(cached)
        let error = result == SQLITE_DONE ? nil : lastError(result)
        sqlite3_reset(cached)
        if let error { throw error }
    }

    func lastError(_ code: Int32) -> SQLiteError {
        SQLiteError(code: code, message: String(cString: sqlite3_errmsg(handle)))
    }
}
