/// What PostgreSQL (or libpq) said went wrong; `sqlState` is the five-character SQLSTATE
/// when the server sent one (`40001` for a serialization failure, say).
public struct PostgresError: Error, CustomStringConvertible {
    public let message: String
    public let sqlState: String?

    public var description: String { sqlState.map { "\(message) (SQLSTATE \($0))" } ?? message }
}
