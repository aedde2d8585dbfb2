/// Every setting of the system, with the embedded defaults: one machine, loopback endpoints,
/// SQLite and files under `dataDirectory`.
public struct ChatConfiguration: Equatable, Sendable {
    public var dataDirectory = "data"
    public var logLevel = "info"

    // Gateway: the client-facing TCP server.
    public var host = "0.0.0.0"
    public var port = 7890
    /// A connection that has not signed in within this long is closed.
    public var loginTimeoutSeconds = 60
    /// A line left half-sent this long closes the connection.
    public var partialLineTimeoutSeconds = 60
    /// SwiftNIO event loops of the gateway; 0 means one per core.
    public var gatewayThreads = 0
    /// Largest voice or file message accepted through the server (`File too large` above).
    public var maxFileBytes: Int64 = 1 << 30
    /// Downloads go straight from storage's file (`sendfile`) when the gateway can open it,
    /// that is when both run on one machine; otherwise in chunks over the bus.
    public var sendLocalFiles = true

    public var authEndpoint = "tcp://127.0.0.1:7901"
    public var routerEndpoint = "tcp://127.0.0.1:7902"
    /// One storage worker per endpoint; worker `i` binds `storageEndpoints[i]`.
    public var storageEndpoints = ["tcp://127.0.0.1:7910", "tcp://127.0.0.1:7911"]
    /// Fixed for the life of a data folder: pairs hash into these, workers own subsets.
    public var storagePartitions = 16

    /// How long a gateway or router waits for a worker before answering `Service unavailable`.
    public var requestTimeoutMilliseconds = 5_000

    /// scrypt cost for new password hashes (stored with each hash, so it can change later).
    public var scryptN = 1 << 17
    public var scryptR = 8
    public var scryptP = 1

    /// Restart intensity, as Erlang/OTP: more than `maxRestarts` in `restartWindowSeconds` and
    /// the supervisor gives up and stops everything.
    public var maxRestarts = 10
    public var restartWindowSeconds = 60
    /// Children get this long to stop after SIGTERM before SIGKILL.
    public var shutdownGraceSeconds = 5

    public init() {}

    /// The dotted keys a config file or `--set` may name, with how each applies.
    static let keys: [String: (inout ChatConfiguration, ConfigFile.Value) throws -> Void] = [
        "data_dir": { $0.dataDirectory = try string($1) },
        "log_level": { $0.logLevel = try string($1) },
        "gateway.host": { $0.host = try string($1) },
        "gateway.port": { $0.port = try integer($1, in: 0...65535) },
        "gateway.login_timeout_seconds": { $0.loginTimeoutSeconds = try integer($1, in: 1...86_400) },
        "gateway.partial_line_timeout_seconds": { $0.partialLineTimeoutSeconds = try integer($1, in: 1...86_400) },
        "gateway.threads": { $0.gatewayThreads = try integer($1, in: 0...256) },
        "gateway.max_file_bytes": { $0.maxFileBytes = Int64(try integer($1, in: 0...Int.max)) },
        "gateway.send_local_files": { $0.sendLocalFiles = try boolean($1) },
        "auth.endpoint": { $0.authEndpoint = try string($1) },
        "auth.scrypt_n": { $0.scryptN = try powerOfTwo($1) },
        "auth.scrypt_r": { $0.scryptR = try integer($1, in: 1...64) },
        "auth.scrypt_p": { $0.scryptP = try integer($1, in: 1...64) },
        "router.endpoint": { $0.routerEndpoint = try string($1) },
        "storage.endpoints": { $0.storageEndpoints = try strings($1) },
        "storage.partitions": { $0.storagePartitions = try integer($1, in: 1...4096) },
        "bus.request_timeout_ms": { $0.requestTimeoutMilliseconds = try integer($1, in: 10...600_000) },
        "supervisor.max_restarts": { $0.maxRestarts = try integer($1, in: 0...10_000) },
        "supervisor.restart_window_seconds": { $0.restartWindowSeconds = try integer($1, in: 1...86_400) },
        "supervisor.shutdown_grace_seconds": { $0.shutdownGraceSeconds = try integer($1, in: 0...600) },
    ]

    public struct InvalidSetting: Error, CustomStringConvertible {
        public let key: String
        public let reason: String
        public var description: String { "\(key): \(reason)" }
    }

    /// Applies one setting by its dotted key.
    public mutating func apply(_ key: String, _ value: ConfigFile.Value) throws {
        guard let setter = Self.keys[key] else { throw InvalidSetting(key: key, reason: "unknown setting") }
        do {
            try setter(&self, value)
        } catch let reason as String {
            throw InvalidSetting(key: key, reason: reason)
        }
    }

    private static func string(_ value: ConfigFile.Value) throws -> String {
        guard case .string(let text) = value else { throw "expected a string" }
        return text
    }

    private static func boolean(_ value: ConfigFile.Value) throws -> Bool {
        guard case .boolean(let flag) = value else { throw "expected true or false" }
        return flag
    }

    private static func strings(_ value: ConfigFile.Value) throws -> [String] {
        guard case .strings(let items) = value, !items.isEmpty else { throw "expected a non-empty array of strings" }
        return items
    }

    private static func integer(_ value: ConfigFile.Value, in range: ClosedRange<Int>) throws -> Int {
        guard case .integer(let number) = value, range.contains(number) else { throw "expected an integer in \(range)" }
        return number
    }

    private static func powerOfTwo(_ value: ConfigFile.Value) throws -> Int {
        let number = try integer(value, in: 2...(1 << 24))
        guard number & (number - 1) == 0 else { throw "expected a power of two" }
        return number
    }
}
