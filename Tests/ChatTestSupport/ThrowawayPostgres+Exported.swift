// The tests' PostgreSQL servers come from the library chat-bench uses too.
@_exported import ThrowawayPostgres
