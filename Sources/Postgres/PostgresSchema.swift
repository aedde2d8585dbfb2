/// A versioned set of tables one component keeps in a database (`storage`, `auth`), recorded
/// in `chat_schema(component, version)`.
///
/// Every process checks it when it connects: a database with no record gets the tables made
/// (they are all `IF NOT EXISTS`, so one made before versions were recorded is taken as it
/// is) and its version recorded; one of this version is used as it is, without running any
/// DDL (which would lock tables a running system writes); one of a newer version is refused,
/// since an older program must not write tables it does not know. Processes starting together
/// take turns under one advisory lock, whatever their component: two components' processes
/// (auth and storage on one database) making `chat_schema` at once would collide in the
/// catalog (`CREATE TABLE IF NOT EXISTS` is not safe against a concurrent one).
public struct PostgresSchema: Sendable {
    public let component: String
    public let version: Int
    /// Statements that make every table, index and function of `version` if missing.
    public let creation: String
    /// Statements that take the tables of version k (the key) to k + 1 where making what is
    /// missing is not enough (a table whose columns changed), run in turn before `creation`.
    public let upgrades: [Int: String]
    /// The advisory lock every component's processes take while checking or creating.
    static let lockKey: Int64 = 7_302_000

    public init(component: String, version: Int, creation: String, upgrades: [Int: String] = [:]) {
        self.component = component
        self.version = version
        self.creation = creation
        self.upgrades = upgrades
    }

    public struct TooNew: Error, CustomStringConvertible {
        public let component: String
        public let found: Int
        public let known: Int
        public var description: String {
            "the database's \(component) tables are at schema version \(found), newer than this chatd knows (\(known)): upgrade chatd"
        }
    }

    /// Makes sure `connection`'s database has this schema (creating it if missing), then runs
    /// `check` in the same transaction (under the lock), and returns the version found before
    /// (nil when the tables were made now).
    @discardableResult
    public func prepare(on connection: PostgresConnection, check: () throws -> Void = {}) throws -> Int? {
        try connection.transaction {
            try connection.query("SELECT pg_advisory_xact_lock($1)", [.integer(Self.lockKey)])
            try connection.execute("CREATE TABLE IF NOT EXISTS chat_schema (component text PRIMARY KEY, version integer NOT NULL)")
            let rows = try connection.query("SELECT version FROM chat_schema WHERE component = $1", [.text(component)])
            let found = rows.count > 0 ? Int(rows.integer(0, 0)) : nil
            if let found, found > version { throw TooNew(component: component, found: found, known: version) }
            if found != version {
                for step in (found ?? version)..<version {
                    if let upgrade = upgrades[step] { try connection.execute(upgrade) }
                }
                try connection.execute(creation)
                try connection.query("""
                    INSERT INTO chat_schema (component, version) VALUES ($1, $2)
                    ON CONFLICT (component) DO UPDATE SET version = excluded.version
                    """, [.text(component), .integer(Int64(version))])
            }
            try check()
            return found
        }
    }
}
