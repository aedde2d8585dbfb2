import CLibPQ

/// One connection to PostgreSQL through libpq, used from one thread at a time (as the
/// storage and auth workers use SQLite). Queries take their parameters separately (never
/// spliced into the text), and results come in binary (`PostgresRows`).
public final class PostgresConnection {
    private let connection: OpaquePointer
    /// Run after connecting, and again after each reconnection.
    private let sessionSettings: [String]

    /// What every session gets: UTF-8 text whatever the database's default, read-committed
    /// transactions (what the stores' locking is written for), commits that wait for the
    /// disk (`ok` means durable) whatever the server's default, and a transaction left idle
    /// for 2 s ended by the server: a client frozen or cut off between the statements of a
    /// transaction would otherwise hold its row locks (a partition's lease among them) until
    /// the server's TCP keepalive noticed, hours later. No transaction here waits on its
    /// client for anything but the next statement.
    public static let defaultSessionSettings = ["SET client_encoding = 'UTF8'",
                                                "SET default_transaction_isolation = 'read committed'",
                                                "SET synchronous_commit = on",
                                                "SET idle_in_transaction_session_timeout = '2s'"]

    /// Bounds on a server that stops answering, unless the URL sets its own: a connect gives up
    /// after 10 s, and over TCP a query whose bytes go unacknowledged for 10 s (a cut network)
    /// fails instead of waiting for the kernel's retransmissions (some 15 minutes) while a
    /// worker's commits queue behind it. (Unix sockets ignore the TCP ones.)
    static let timeoutOptions = [("connect_timeout", "10"), ("tcp_user_timeout", "10000"), ("keepalives_idle", "5"),
                                 ("keepalives_interval", "2"), ("keepalives_count", "3")]

    /// `url` with each of `timeoutOptions` it does not set added, as a URI's query or a
    /// connection string's `key=value`.
    static func withTimeouts(_ url: String) -> String {
        var url = url
        for (key, value) in timeoutOptions where !url.contains(key) {
            if url.contains("://") {
                url += (url.contains("?") ? "&" : "?") + "\(key)=\(value)"
            } else {
                url += " \(key)=\(value)"
            }
        }
        return url
    }

    /// Connects to `url`, a libpq connection string or URI
    /// (`postgresql:///chat?host=/run/postgresql`), with `timeoutOptions` unless the URL sets them.
    public init(url: String, sessionSettings: [String] = PostgresConnection.defaultSessionSettings) throws {
        guard let connection = PQconnectdb(Self.withTimeouts(url)) else { throw PostgresError(message: "out of memory", sqlState: nil) }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(connection)).trimmingNewlines
            PQfinish(connection)
            throw PostgresError(message: "cannot connect to PostgreSQL: \(message)", sqlState: nil)
        }
        self.connection = connection
        self.sessionSettings = sessionSettings
        // Quiet: `CREATE ... IF NOT EXISTS` of things that exist would print a notice each time.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        for setting in sessionSettings { try execute(setting) }
    }

    deinit { PQfinish(connection) }

    /// Whether the connection is still up (a restarted server or a cut network end it).
    public var isConnected: Bool { PQstatus(connection) == CONNECTION_OK }

    /// Runs one or more statements that return no rows, without parameters.
    public func execute(_ sql: String) throws {
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        do {
            try check(result)
        } catch {
            recoverIfLost()
            throw error
        }
    }

    /// After a failure: a connection that was lost is made again (with its session settings),
    /// so the next call can succeed; the failed one is not retried (its caller answers it).
    private func recoverIfLost() {
        if PQstatus(connection) != CONNECTION_OK { reconnect() }
    }

    /// A new session on the same URL, with the session settings.
    private func reconnect() {
        PQreset(connection)
        guard PQstatus(connection) == CONNECTION_OK else { return }
        for setting in sessionSettings { PQclear(PQexec(connection, setting)) }
    }

    /// Runs one statement with `parameters` ($1, $2, ...) and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresValue] = []) throws -> PostgresRows {
        let result = withParameters(parameters) { count, types, values, lengths, formats in
            PQexecParams(connection, sql, count, types, values, lengths, formats, 1)
        }
        do {
            try check(result)
        } catch {
            PQclear(result)
            recoverIfLost()
            throw error
        }
        return PostgresRows(result!)
    }

    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Runs `statements` as one transaction in one round trip (libpq's pipeline mode): BEGIN,
    /// every statement, COMMIT, sent together, then every result read. Committed when this
    /// returns; nothing is committed if any statement fails (the server skips the rest of
    /// the pipeline and the COMMIT). Returns how many rows each statement returned.
    @discardableResult
    public func pipelinedTransaction(_ statements: [(sql: String, parameters: [PostgresValue])]) throws -> [Int] {
        do {
            return try pipelined(statements)
        } catch {
            if PQpipelineStatus(connection) != PQ_PIPELINE_OFF || PQstatus(connection) != CONNECTION_OK {
                // Still in pipeline mode (a send failed midway) or the connection is gone:
                // start over on a new connection, which has no transaction open.
                reconnect()
            } else {
                // A failed statement leaves the transaction open and aborted (the COMMIT was
                // skipped): end it, so the connection can go on.
                try? execute("ROLLBACK")
            }
            throw error
        }
    }

    private func pipelined(_ statements: [(sql: String, parameters: [PostgresValue])]) throws -> [Int] {
        guard PQenterPipelineMode(connection) == 1 else { throw lastError("cannot enter pipeline mode") }
        defer { _ = PQexitPipelineMode(connection) }
        let all = [("BEGIN", [PostgresValue]())] + statements.map { ($0.sql, $0.parameters) } + [("COMMIT", [])]
        for (sql, parameters) in all {
            let sent = withParameters(parameters) { count, types, values, lengths, formats in
                PQsendQueryParams(connection, sql, count, types, values, lengths, formats, 1)
            }
            guard sent == 1 else { throw lastError("cannot send a statement") }
        }
        guard PQpipelineSync(connection) == 1 else { throw lastError("cannot send the pipeline") }
        // Each statement's result, then nil; the sync's PGRES_PIPELINE_SYNC ends it.
        var failure: PostgresError?
        var rowCounts: [Int] = []
        while true {
            guard let result = PQgetResult(connection) else {
                // Between statements' results; on a lost connection, for ever: the sync that
                // ends the pipeline will not come.
                guard PQstatus(connection) == CONNECTION_OK else {
                    throw failure ?? lastError("connection lost during a pipelined transaction")
                }
                continue
            }
            let status = PQresultStatus(result)
            if status == PGRES_PIPELINE_SYNC {
                PQclear(result)
                break
            }
            if failure == nil, status != PGRES_COMMAND_OK, status != PGRES_TUPLES_OK {
                failure = error(of: result, status: status)
            }
            rowCounts.append(Int(PQntuples(result)))
            PQclear(result)
        }
        if let failure { throw failure }
        // BEGIN's and COMMIT's are no statement's.
        return Array(rowCounts.dropFirst().dropLast())
    }

    private func check(_ result: OpaquePointer?) throws {
        guard let result else { throw lastError("no result") }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else { throw error(of: result, status: status) }
    }

    private func error(of result: OpaquePointer, status: ExecStatusType) -> PostgresError {
        if status == PGRES_PIPELINE_ABORTED {
            return PostgresError(message: "skipped after an earlier failure in the same pipeline", sqlState: nil)
        }
        // The primary message alone (`ERROR:  ...` and the detail lines are in the full one).
        let message = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
            ?? String(cString: PQresultErrorMessage(result)).trimmingNewlines
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        return PostgresError(message: message.isEmpty ? String(cString: PQresStatus(status)) : message, sqlState: state)
    }

    private func lastError(_ what: String) -> PostgresError {
        PostgresError(message: "\(what): \(String(cString: PQerrorMessage(connection)).trimmingNewlines)", sqlState: nil)
    }

    /// Calls libpq with the parameters laid out as it wants them: texts and integers as text,
    /// bytes as binary `bytea` (type 17), nulls as null pointers.
    private func withParameters<T>(_ parameters: [PostgresValue],
                                   _ body: (Int32, UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?,
                                            UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> T) -> T {
        // Each parameter's bytes, NUL-terminated for the text ones, kept alive for the call.
        let storage: [[UInt8]?] = parameters.map { value in
            switch value {
            case .text(let text): return Array(text.utf8) + [0]
            case .integer(let number): return Array(String(number).utf8) + [0]
            case .bytes(let bytes): return bytes.isEmpty ? [0] : bytes
            case .null: return nil
            }
        }
        let types: [Oid] = parameters.map { if case .bytes = $0 { return 17 } else { return 0 } }
        let formats: [Int32] = parameters.map { if case .bytes = $0 { return 1 } else { return 0 } }
        let lengths: [Int32] = parameters.map { if case .bytes(let bytes) = $0 { return Int32(bytes.count) } else { return 0 } }
        return withPointers(storage[...], collected: []) { pointers in
            types.withUnsafeBufferPointer { types in
                lengths.withUnsafeBufferPointer { lengths in
                    formats.withUnsafeBufferPointer { formats in
                        pointers.withUnsafeBufferPointer { pointers in
                            body(Int32(parameters.count), types.baseAddress, pointers.baseAddress, lengths.baseAddress, formats.baseAddress)
                        }
                    }
                }
            }
        }
    }

    /// Pointers to each of `rest`'s buffers, valid inside `body`.
    private func withPointers<T>(_ rest: ArraySlice<[UInt8]?>, collected: [UnsafePointer<CChar>?],
                                 _ body: ([UnsafePointer<CChar>?]) -> T) -> T {
        guard let first = rest.first else { return body(collected) }
        guard let bytes = first else { return withPointers(rest.dropFirst(), collected: collected + [nil], body) }
        return bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { pointer in
                withPointers(rest.dropFirst(), collected: collected + [pointer], body)
            }
        }
    }
}

extension String {
    fileprivate var trimmingNewlines: String {
        var text = self
        while text.last == "\n" { text.removeLast() }
        return text
    }
}
