/// A query parameter. Text and integers go as text, bytes as binary `bytea`.
public enum PostgresValue: Sendable, Equatable {
    case text(String)
    case integer(Int64)
    case bytes([UInt8])
    case null
}
