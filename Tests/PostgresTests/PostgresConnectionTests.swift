import ChatTestSupport
@testable import Postgres
import Synchronization
import Testing
import Dispatch
import Glibc

/// The libpq wrapper against a real, throwaway PostgreSQL server.
@Suite(.serialized) struct PostgresConnectionTests {
    /// One server for the suite: starting a cluster takes a second or two.
    static let server = Result { try PostgresServer() }

    private func connect() throws -> PostgresConnection {
        try PostgresConnection(url: try Self.server.get().url())
    }

    @Test func parametersAndBinaryResultsRoundTrip() throws {
        let connection = try connect()
        try connection.execute("CREATE TEMPORARY TABLE t (id bigserial PRIMARY KEY, name text, body bytea, n integer)")
        let body: [UInt8] = [0, 1, 2, 255, 10, 13]
        try connection.query("INSERT INTO t (name, body, n) VALUES ($1, $2, $3)", [.text("héllo 'quoted' $1"), .bytes(body), .integer(-7)])
        try connection.query("INSERT INTO t (name, body, n) VALUES ($1, $2, $3)", [.null, .bytes([]), .integer(1 << 40 > 0 ? 5 : 0)])
        let rows = try connection.query("SELECT id, name, body, n, length(body)::bigint FROM t ORDER BY id")
        #expect(rows.count == 2)
        #expect(rows.integer(0, 0) == 1 && rows.integer(1, 0) == 2)
        #expect(rows.text(0, 1) == "héllo 'quoted' $1")
        #expect(rows.bytes(0, 2) == body)
        #expect(rows.integer(0, 3) == -7, "a negative integer (int4) sign-extended")
        #expect(rows.integer(0, 4) == 6)
        #expect(rows.isNull(1, 1) && rows.bytes(1, 2).isEmpty)
    }

    @Test func aFailedTransactionLeavesNothing() throws {
        let connection = try connect()
        try connection.execute("CREATE TEMPORARY TABLE u (k text PRIMARY KEY)")
        #expect(throws: PostgresError.self) {
            try connection.transaction {
                try connection.query("INSERT INTO u VALUES ($1)", [.text("a")])
                try connection.query("INSERT INTO u VALUES ($1)", [.text("a")])
            }
        }
        #expect(try connection.query("SELECT count(*) FROM u").integer(0, 0) == 0)
        let error = try #require(throws: PostgresError.self) { try connection.query("SELECT * FROM nowhere") }
        #expect(error.sqlState == "42P01", "undefined table: \(error)")
    }

    /// A pipelined transaction: all its statements in one round trip, all or nothing.
    @Test func aPipelinedTransactionCommitsAllOrNothing() throws {
        let connection = try connect()
        try connection.execute("CREATE TEMPORARY TABLE p (k text PRIMARY KEY, body bytea)")
        try connection.pipelinedTransaction((0..<100).map { ("INSERT INTO p VALUES ($1, $2)", [.text("k\($0)"), .bytes([UInt8($0)])]) })
        #expect(try connection.query("SELECT count(*) FROM p").integer(0, 0) == 100)
        #expect(throws: PostgresError.self) {
            try connection.pipelinedTransaction([("INSERT INTO p VALUES ($1, $2)", [.text("new"), .bytes([1])]),
                                                 ("INSERT INTO p VALUES ($1, $2)", [.text("k5"), .bytes([2])])])
        }
        #expect(try connection.query("SELECT count(*) FROM p WHERE k = 'new'").integer(0, 0) == 0, "the failed pipeline committed nothing")
        // The connection is usable after the failure.
        #expect(try connection.query("SELECT count(*) FROM p").integer(0, 0) == 100)
        // Each statement's rows are counted, BEGIN's and COMMIT's left out.
        let rows = try connection.pipelinedTransaction([
            ("SELECT k FROM p WHERE k < $1", [.text("k2")]),
            ("INSERT INTO p VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1", [.text("k1"), .bytes([])]),
            ("INSERT INTO p VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1", [.text("k100"), .bytes([])]),
        ])
        #expect(rows == [12, 0, 1], "k0, k1, k10-k19; k1 taken; k100 new")
    }

    @Test func timeoutsAreAddedUnlessTheURLSetsThem() {
        let uri = PostgresConnection.withTimeouts("postgresql://db.example/chat?connect_timeout=3")
        #expect(uri.hasPrefix("postgresql://db.example/chat?connect_timeout=3&"))
        #expect(!uri.contains("connect_timeout=10") && uri.contains("&tcp_user_timeout=10000&keepalives_idle=5"))
        let bare = PostgresConnection.withTimeouts("postgresql:///chat")
        #expect(bare.hasPrefix("postgresql:///chat?connect_timeout=10&tcp_user_timeout=10000"))
        let keywords = PostgresConnection.withTimeouts("host=/run/postgresql dbname=chat tcp_user_timeout=500")
        #expect(keywords.hasPrefix("host=/run/postgresql dbname=chat tcp_user_timeout=500 connect_timeout=10 keepalives_idle=5"))
    }

    /// The tables are made once and their version recorded; a later program's version is refused.
    @Test func aSchemaIsMadeOnceAndANewerOneRefused() throws {
        let connection = try PostgresConnection(url: try Self.server.get().newDatabase())
        let schema = PostgresSchema(component: "test", version: 1, creation: "CREATE TABLE IF NOT EXISTS made (n integer)")
        #expect(try schema.prepare(on: connection) == nil, "made now")
        try connection.query("INSERT INTO made VALUES (1)")
        #expect(try schema.prepare(on: connection) == 1, "found at version 1, left as it was")
        #expect(try connection.query("SELECT count(*) FROM made").integer(0, 0) == 1)
        try connection.query("UPDATE chat_schema SET version = 2 WHERE component = 'test'")
        let refused = try #require(throws: PostgresSchema.TooNew.self) { try schema.prepare(on: connection) }
        #expect(refused.description.contains("schema version 2, newer than this chatd knows (1)"))
    }

    /// An older version is brought up step by step: each step's upgrade once, in order, then
    /// what is missing made; the rows the upgrades leave alone are kept.
    @Test func anOlderSchemaIsUpgradedStepByStep() throws {
        let connection = try PostgresConnection(url: try Self.server.get().newDatabase())
        let first = PostgresSchema(component: "test", version: 1, creation: "CREATE TABLE IF NOT EXISTS kept (n integer); CREATE TABLE IF NOT EXISTS reshaped (n integer)")
        try first.prepare(on: connection)
        try connection.query("INSERT INTO kept VALUES (1)")
        try connection.query("INSERT INTO reshaped VALUES (1)")
        let third = PostgresSchema(component: "test", version: 3, creation: """
            CREATE TABLE IF NOT EXISTS kept (n integer);
            CREATE TABLE IF NOT EXISTS reshaped (n integer, m integer NOT NULL);
            CREATE TABLE IF NOT EXISTS steps (step text);
            """, upgrades: [
                1: "CREATE TABLE steps (step text); INSERT INTO steps VALUES ('1 to 2')",
                2: "INSERT INTO steps VALUES ('2 to 3'); DROP TABLE reshaped",
            ])
        #expect(try third.prepare(on: connection) == 1, "found at version 1")
        let steps = try connection.query("SELECT step FROM steps ORDER BY step")
        #expect((0..<steps.count).map { steps.text($0, 0) } == ["1 to 2", "2 to 3"])
        #expect(try connection.query("SELECT count(*) FROM kept").integer(0, 0) == 1)
        try connection.query("INSERT INTO reshaped VALUES (1, 2)")
        #expect(try third.prepare(on: connection) == 3, "at version 3 now: no upgrade runs again")
        #expect(try connection.query("SELECT count(*) FROM steps").integer(0, 0) == 2)
    }

    /// Two components' processes starting together on one empty database (auth and storage do):
    /// all of them find or make their tables, none trips over another's `chat_schema`.
    @Test func componentsPreparingAtOnceDoNotCollide() throws {
        let url = try Self.server.get().newDatabase()
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            let component = index.isMultiple(of: 2) ? "first" : "second"
            let schema = PostgresSchema(component: component, version: 1, creation: "CREATE TABLE IF NOT EXISTS \(component)_rows (n integer)")
            do {
                try schema.prepare(on: try PostgresConnection(url: url))
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty)
    }

    /// A server started while the test process holds a pipe (a scripted client's input, say)
    /// does not hold it too: closing our end still ends the reader's input.
    @Test func aServerStartedKeepsNoDescriptorOfOurs() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]) }
        let server = try PostgresServer()
        close(ends[1])
        var reader = pollfd(fd: ends[0], events: Int16(POLLIN), revents: 0)
        #expect(poll(&reader, 1, 2_000) == 1, "the server holds the pipe's writing end")
        withExtendedLifetime(server) {}
    }

    @Test func aBadURLOrServerSaysWhy() throws {
        let error = try #require(throws: PostgresError.self) {
            try PostgresConnection(url: "postgresql:///chat?host=/nonexistent-socket-folder&user=postgres&connect_timeout=2")
        }
        #expect(error.description.contains("cannot connect to PostgreSQL"))
    }

    /// The server ends the session (a restart, `pg_terminate_backend`): the call under way
    /// fails, a pipelined one too rather than waiting for ever, and the next call works on a
    /// new session with the same settings.
    @Test func aLostConnectionFailsOneCallAndIsMadeAgain() throws {
        let connection = try connect(), killer = try connect()
        for pipelined in [false, true] {
            let pid = try connection.query("SELECT pg_backend_pid()").integer(0, 0)
            #expect(try killer.query("SELECT pg_terminate_backend($1::integer)", [.integer(pid)]).count == 1)
            if pipelined {
                #expect(throws: PostgresError.self) { try connection.pipelinedTransaction([("SELECT 1", [])]) }
            } else {
                #expect(throws: PostgresError.self) { try connection.query("SELECT 1") }
            }
            #expect(try connection.query("SELECT 41 + 1").integer(0, 0) == 42)
            #expect(try connection.query("SHOW synchronous_commit").text(0, 0) == "on")
            #expect(try connection.query("SELECT pg_backend_pid()").integer(0, 0) != pid)
        }
    }
}
