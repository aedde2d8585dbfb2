/// Every setting of the system, with the embedded defaults: one machine, loopback endpoints,
/// SQLite and files under `dataDirectory`.
public struct ChatConfiguration: Equatable, Sendable {
    public var dataDirectory = "data"
    /// `trace`, `debug`, `info`, `notice`, `warning`, `error` or `critical`.
    public var logLevel = "info"
    /// `text`: one readable line per entry; `json`: one JSON object per line (`LogFormat`).
    public var logFormat = "text"

    // Gateway: the client-facing TCP server.
    public var host = "0.0.0.0"
    /// The plaintext client port; 0 turns it off (then the TLS port must be on).
    public var port = 7890
    /// The TLS client port (the same protocol inside TLS 1.2+), served only when both PEM
    /// files below are set.
    public var tlsPort = 7891
    public var tlsCertificate = ""
    public var tlsPrivateKey = ""
    public var servesTLS: Bool { !tlsCertificate.isEmpty && !tlsPrivateKey.isEmpty }

    /// Why the client ports as configured cannot be served (checked by the supervisor before it
    /// starts anything, and by the gateway), or nil.
    public var clientPortsProblem: String? {
        if tlsCertificate.isEmpty != tlsPrivateKey.isEmpty {
            return "gateway.tls_certificate and gateway.tls_private_key go together: set both, or neither"
        }
        if port == 0 && !servesTLS { return "gateway.port is 0 and no TLS certificate is set: the gateway would listen nowhere" }
        if servesTLS && port == tlsPort { return "gateway.port and gateway.tls_port are both \(port): one port cannot be both" }
        return nil
    }
    /// A connection that has not signed in within this long is closed.
    public var loginTimeoutSeconds = 60
    /// A line left half-sent this long closes the connection.
    public var partialLineTimeoutSeconds = 60
    /// An upload slower than this, averaged over each partial-line timeout, closes the connection.
    public var minUploadBytesPerSecond = 512
    /// A `server_data_size<N>` left unanswered this long closes the connection.
    public var dataAnswerTimeoutSeconds = 60
    /// Bytes the gateway holds in all for clients that do not read them (beyond what their
    /// sockets take); past it, a client holding more than its share is disconnected. 0: no
    /// gateway-wide limit (each connection still has its own, 64 MiB).
    public var maxQueuedOutputBytes = 256 << 20
    /// Bytes the gateway holds for one client that does not read them; past it, it is disconnected.
    public var maxQueuedOutputBytesPerConnection = 64 << 20
    /// A history is read from storage about this many bytes at a time, as the client reads it.
    public var historyPageBytes = 256 << 10
    /// Connections the gateway holds at once, signed in or not; past it a new one is refused.
    /// 0 derives it from the file-descriptor limit, keeping a reserve for the gateway's own
    /// files and sockets (`ConnectionCap`); a larger value is lowered to that.
    public var maxConnections = 0
    /// Connections not (yet) signed in from one client address (an IPv6 /64) at once; past it
    /// a new one from there is refused. 0 means no limit.
    public var maxUnauthenticatedPerAddress = 32
    /// SwiftNIO event loops of the gateway; 0 means one per core.
    public var gatewayThreads = 0
    /// Largest voice or file message accepted through the server (`File too large` above).
    public var maxFileBytes: Int64 = 1 << 30
    /// Downloads go straight from storage's file (`sendfile`) when the gateway can open it,
    /// that is when both run on one machine; otherwise in chunks over the bus.
    public var sendLocalFiles = true
    /// A spliced peer-to-peer relay that carries no byte either way for this long is closed.
    public var relayIdleTimeoutSeconds = 60
    /// Largest offered size the relay carries; a bigger transfer must connect directly (its
    /// relay connections are answered `No such transfer`).
    public var relayMaxBytes: Int64 = 1 << 32
    /// Texts, voice and file messages and friend requests a signed-in user may send per second,
    /// sustained; past `messageBurst` at once the gateway reads that user's connection only as
    /// fast as this. 0 means no limit.
    public var messagesPerSecond = 20
    /// How many such messages a user may send at once before `messagesPerSecond` applies.
    public var messageBurst = 100

    public var authEndpoint = "tcp://127.0.0.1:7901"
    /// Several auth workers, one per endpoint (worker `i` binds `authEndpointList[i]`); empty:
    /// one, at `authEndpoint`.
    public var authEndpointList: [String] = []
    /// The auth workers' endpoints: `authEndpointList`, or `authEndpoint` alone.
    public var authEndpoints: [String] { authEndpointList.isEmpty ? [authEndpoint] : authEndpointList }
    public var routerEndpoint = "tcp://127.0.0.1:7902"
    /// Peer-to-peer offers a user may make per minute (and at once); past this the offer is
    /// answered `Too many offers, try again later`. 0: no limit.
    public var p2pOffersPerMinute = 30
    /// Offers of one user waiting for an answer at once (an accepted one no longer counts;
    /// an unanswered one lives ten minutes); past this, `Too many offers, try again later`.
    public var p2pMaxLiveOffersPerUser = 64
    /// Introductions the router holds at once, from everyone.
    public var p2pMaxLiveOffers = 100_000
    /// One storage worker per endpoint; worker `i` binds `storageEndpoints[i]`.
    public var storageEndpoints = ["tcp://127.0.0.1:7910", "tcp://127.0.0.1:7911"]
    /// Fixed for the life of a data folder: pairs hash into these, workers own subsets.
    public var storagePartitions = 16
    /// Where history and file records are kept: `sqlite` (a file per partition under the data
    /// folder, the default) or `postgres` (`storagePostgresURL`). With `postgres` the workers
    /// hold their partitions by leases in the database instead of locks in the data folder, so
    /// any worker serves any partition, and file bytes are in the database too (unless
    /// `storageFilesFolder` names a shared folder).
    public var storageBackend = "sqlite"
    /// A libpq connection string or URI (`postgresql:///chat?host=/run/postgresql`).
    public var storagePostgresURL = ""
    /// A folder for stored files' bytes shared by every storage worker (an NFS mount, say);
    /// empty: `files/` in the data folder with SQLite, the database itself with `postgres`.
    public var storageFilesFolder = ""
    /// With `postgres`: a storage worker's partition leases run out this long after its last
    /// renewal (it renews every second), and another worker takes them over.
    public var storageLeaseSeconds = 5
    /// Whether storage workers hold their partitions by leases in PostgreSQL (not by a map
    /// file and locks in the data folder).
    public var storageLeases: Bool { storageBackend == "postgres" }
    /// Where accounts, friends and stored-byte counts are kept: `sqlite` (`auth/accounts.sqlite`
    /// under the data folder) or `postgres` (`authPostgresURL`).
    public var authBackend = "sqlite"
    public var authPostgresURL = ""

    /// Why the storage and auth backends as configured cannot be used, or nil.
    public var backendsProblem: String? {
        if storageBackend == "postgres" && storagePostgresURL.isEmpty { return "storage.backend is \"postgres\" but storage.postgres_url is empty" }
        if authBackend == "postgres" && authPostgresURL.isEmpty { return "auth.backend is \"postgres\" but auth.postgres_url is empty" }
        return nil
    }

    /// How long a gateway or router waits for a worker before answering `Service unavailable`.
    public var requestTimeoutMilliseconds = 5_000
    /// A worker gone this long (its connection lost, not back) gets no more requests queued:
    /// they fail at once (`Service unavailable`) until it is back. Longer than a restart takes.
    public var failFastAfterMilliseconds = 2_000
    /// CurveZMQ on every bus socket: encrypted, and only processes holding the system's key
    /// (`<data_dir>/keys/bus.secret`) are answered. Off only for a trusted single host.
    public var busCurve = true

    /// scrypt cost for new password hashes (stored with each hash, so it can change later).
    public var scryptN = 1 << 17
    /// How long a session resumption ticket stays good (docs/protocol.md); each works once.
    public var resumeTicketSeconds = 86_400
    public var scryptR = 8
    public var scryptP = 1
    /// Password hashes waiting or running at once in auth; past this a sign-up or sign-in gets
    /// `Service unavailable` at once instead of waiting behind hashes nobody needs.
    public var maxQueuedHashes = 64
    /// Of those, how many one client address (IPv4, or an IPv6 /64) may have at once; past it
    /// that address's sign-ins get `Service unavailable`, so one address cannot fill the queue.
    public var maxHashesPerAddress = 4
    /// Failed sign-ins from one client address (IPv4, or an IPv6 /64) that cost nothing; each
    /// further failure makes that address wait before its next sign-in is even checked.
    public var freeFailedSignInsPerAddress = 5
    /// The same for one account, whatever the address; an address the account signed in from
    /// lately is exempt (the owner is not locked out by someone else's guesses).
    public var freeFailedSignInsPerAccount = 10
    /// The wait after the first failure past the free ones; it doubles with each further one.
    public var firstSignInDelayMilliseconds = 1_000
    /// The longest wait a run of failures can impose.
    public var maxSignInDelaySeconds = 60
    /// An address or account with no failed sign-in for this long starts afresh.
    public var failedSignInsForgottenAfterSeconds = 900
    /// Addresses, and accounts, whose failures auth remembers at most (each), and addresses whose
    /// sign-ups it counts; past it the longest quiet are forgotten first, so a flood of
    /// addresses cannot grow auth without bound.
    public var maxTrackedSignInKeys = 100_000
    /// Addresses remembered per account as its owner's (the last ones it signed in from).
    public var knownAddressesPerAccount = 8
    /// Accounts one client address (IPv4, or an IPv6 /64) may sign up; past them its sign-ups
    /// get `Too many sign-ups, try again later`, unchecked, until it has signed up none for
    /// `signUpsForgottenAfterSeconds`. Each account has its own per-user limits, so unlimited
    /// sign-ups would let one client lift them. 0: no limit.
    public var freeSignUpsPerAddress = 20
    /// An address with no sign-up for this long starts afresh (its refusals last this long).
    public var signUpsForgottenAfterSeconds = 3_600
    /// Bytes of voice and file messages a user may have stored in all; an upload that would go
    /// past it gets `Storage quota exceeded`. 0 means no limit.
    public var maxStoredBytesPerUser: Int64 = 10 << 30

    /// Where every process sends its metrics for the supervisor's status and metrics endpoint
    /// (ZeroMQ; the supervisor binds it). Empty: `ipc://` in the data folder, which needs no
    /// port and is one per system; set a `tcp://` address when roles run on other machines.
    public var telemetryEndpoint = ""
    /// How often each process reports.
    public var telemetryIntervalMilliseconds = 1_000
    /// `host:port` of the Prometheus metrics and `/healthz` endpoint the supervisor serves.
    /// Empty: none.
    public var metricsListen = "127.0.0.1:9464"

    /// The telemetry endpoint in effect: `telemetryEndpoint`, or the data folder's.
    public var resolvedTelemetryEndpoint: String {
        telemetryEndpoint.isEmpty ? "ipc://\(dataDirectory)/telemetry.sock" : telemetryEndpoint
    }

    /// Restart intensity per child, as Erlang/OTP: a child restarted more than `maxRestarts`
    /// times in `restartWindowSeconds` is reported as failing. The supervisor never gives up on
    /// it and never stops its siblings for it: it keeps restarting it at `maxBackoffSeconds`.
    public var maxRestarts = 10
    public var restartWindowSeconds = 60
    /// The longest wait before restarting a child that keeps exiting (its backoff doubles from
    /// 0.1 s up to this); a failing child is restarted this often.
    public var maxBackoffSeconds = 30
    /// Children get this long to stop after SIGTERM before SIGKILL.
    public var shutdownGraceSeconds = 5

    public init() {}

    /// The dotted keys a config file or `--set` may name, with what each takes and whether a
    /// reload (SIGHUP, `chatd reload`) changes it in the running processes (`changesLive`).
    /// The others need a restart: each says why.
    static let settings: [String: Setting] = [
        // Every process holds its files under the data folder from the start.
        "data_dir": .string(\.dataDirectory),
        // Read by every log line from one shared value (`LogSettings`).
        "log_level": .oneOf(LogSettings.levels, \.logLevel).changesLive,
        "log_format": .oneOf(LogFormat.allCases.map(\.rawValue), \.logFormat).changesLive,

        // The listening socket and the event loops are made once.
        "gateway.host": .string(\.host),
        "gateway.port": .integer(in: 0...65535, \.port),
        "gateway.tls_port": .integer(in: 1...65535, \.tlsPort),
        // Read again on reload, for new connections (open ones keep theirs); turning TLS on
        // or off binds or closes a port, which takes a restart.
        "gateway.tls_certificate": .string(\.tlsCertificate).changesLive { old, new in
            old.servesTLS == new.servesTLS && new.clientPortsProblem == nil
        },
        "gateway.tls_private_key": .string(\.tlsPrivateKey).changesLive { old, new in
            old.servesTLS == new.servesTLS && new.clientPortsProblem == nil
        },
        "gateway.threads": .integer(in: 0...256, \.gatewayThreads),
        // A session's limits: each connection takes those in effect when it opens, so a reload
        // reaches new connections; the ones open already keep theirs.
        "gateway.login_timeout_seconds": .integer(in: 1...86_400, \.loginTimeoutSeconds).changesLive,
        "gateway.partial_line_timeout_seconds": .integer(in: 1...86_400, \.partialLineTimeoutSeconds).changesLive,
        "gateway.data_answer_timeout_seconds": .integer(in: 1...86_400, \.dataAnswerTimeoutSeconds).changesLive,
        "gateway.min_upload_bytes_per_second": .integer(in: 0...(1 << 30), \.minUploadBytesPerSecond).changesLive,
        "gateway.max_queued_output_bytes_per_connection": .integer(in: (64 << 10)...Int.max, \.maxQueuedOutputBytesPerConnection).changesLive,
        "gateway.history_page_bytes": .integer(in: 256...(16 << 20), \.historyPageBytes).changesLive,
        "gateway.max_file_bytes": .integer(in: 0...Int.max, \.maxFileBytes).changesLive,
        "gateway.send_local_files": .boolean(\.sendLocalFiles).changesLive,
        "gateway.relay_idle_timeout_seconds": .integer(in: 1...86_400, \.relayIdleTimeoutSeconds).changesLive,
        "gateway.relay_max_bytes": .integer(in: 0...Int.max, \.relayMaxBytes).changesLive,
        "gateway.messages_per_second": .integer(in: 0...1_000_000, \.messagesPerSecond).changesLive,
        "gateway.message_burst": .integer(in: 1...1_000_000, \.messageBurst).changesLive,
        // The gateway's own limits, shared by every connection: changed in place.
        "gateway.max_queued_output_bytes": .integer(in: 0...Int.max, \.maxQueuedOutputBytes).changesLive,
        "gateway.max_connections": .integer(in: 0...100_000_000, \.maxConnections).changesLive,
        "gateway.max_unauthenticated_per_address": .integer(in: 0...100_000_000, \.maxUnauthenticatedPerAddress).changesLive,

        // Bound, or connected to by the other processes, once.
        "auth.endpoint": .string(\.authEndpoint),
        "auth.endpoints": .strings(\.authEndpointList),
        // The hasher is handed to the hashing threads when auth starts. (Each stored hash
        // keeps its own cost, so a restart with a new one locks nobody out.)
        "auth.scrypt_n": .powerOfTwo(in: 2...(1 << 24), \.scryptN),
        "auth.resume_ticket_seconds": .integer(in: 1...31_536_000, \.resumeTicketSeconds),
        "auth.scrypt_r": .integer(in: 1...64, \.scryptR),
        "auth.scrypt_p": .integer(in: 1...64, \.scryptP),
        // Auth's limits live on its bus thread, where a reload hands them over.
        "auth.max_queued_hashes": .integer(in: 1...100_000, \.maxQueuedHashes).changesLive,
        "auth.max_hashes_per_address": .integer(in: 1...100_000, \.maxHashesPerAddress).changesLive,
        "auth.free_failed_sign_ins_per_address": .integer(in: 0...1_000_000_000, \.freeFailedSignInsPerAddress).changesLive,
        "auth.free_failed_sign_ins_per_account": .integer(in: 0...1_000_000_000, \.freeFailedSignInsPerAccount).changesLive,
        "auth.first_sign_in_delay_ms": .integer(in: 1...3_600_000, \.firstSignInDelayMilliseconds).changesLive,
        "auth.max_sign_in_delay_seconds": .integer(in: 1...86_400, \.maxSignInDelaySeconds).changesLive,
        "auth.failed_sign_ins_forgotten_after_seconds": .integer(in: 1...604_800, \.failedSignInsForgottenAfterSeconds).changesLive,
        "auth.free_sign_ups_per_address": .integer(in: 0...1_000_000_000, \.freeSignUpsPerAddress).changesLive,
        "auth.sign_ups_forgotten_after_seconds": .integer(in: 1...604_800, \.signUpsForgottenAfterSeconds).changesLive,
        "auth.max_stored_bytes_per_user": .integer(in: 0...Int.max, \.maxStoredBytesPerUser).changesLive,
        // These size the tables of remembered addresses and accounts, which would have to be
        // trimmed in place to shrink.
        "auth.max_tracked_sign_in_keys": .integer(in: 100...10_000_000, \.maxTrackedSignInKeys),
        "auth.known_addresses_per_account": .integer(in: 0...1_000, \.knownAddressesPerAccount),

        "router.endpoint": .string(\.routerEndpoint),
        // The router's offer limits live on its bus thread, where a reload hands them over.
        "router.p2p_offers_per_minute": .integer(in: 0...1_000_000, \.p2pOffersPerMinute).changesLive,
        "router.p2p_max_live_offers_per_user": .integer(in: 1...1_000_000, \.p2pMaxLiveOffersPerUser).changesLive,
        "router.p2p_max_live_offers": .integer(in: 1...10_000_000, \.p2pMaxLiveOffers).changesLive,

        // The storage layout. Workers added or removed at the end of the list change live: the
        // supervisor starts or retires them and moves partitions by a new map. Any other change
        // (one removed from the middle, a new order) would shift the workers' indices, and
        // takes a restart. The partition count is the data folder's.
        "storage.endpoints": .nonEmptyStrings(\.storageEndpoints).changesLive { old, new in
            old.storageEndpoints.starts(with: new.storageEndpoints) || new.storageEndpoints.starts(with: old.storageEndpoints)
        },
        "storage.partitions": .integer(in: 1...4096, \.storagePartitions),
        // Opened when each process starts.
        "storage.backend": .oneOf(["sqlite", "postgres"], \.storageBackend),
        "storage.postgres_url": .string(\.storagePostgresURL),
        "storage.lease_seconds": .integer(in: 2...600, \.storageLeaseSeconds),
        "storage.files_folder": .string(\.storageFilesFolder),
        "auth.backend": .oneOf(["sqlite", "postgres"], \.authBackend),
        "auth.postgres_url": .string(\.authPostgresURL),
        // Every bus loop is made with its timings.
        "bus.request_timeout_ms": .integer(in: 10...600_000, \.requestTimeoutMilliseconds),
        "bus.fail_fast_after_ms": .integer(in: 0...600_000, \.failFastAfterMilliseconds),
        "bus.curve": .boolean(\.busCurve),
        // Bound and connected, and the reporters' timers set, when each process starts.
        "telemetry.endpoint": .string(\.telemetryEndpoint),
        "telemetry.interval_ms": .integer(in: 50...60_000, \.telemetryIntervalMilliseconds),
        "metrics.listen": .string(\.metricsListen),

        // The supervisor's restart policy, read on its own queue at each exit and shutdown.
        "supervisor.max_restarts": .integer(in: 0...10_000, \.maxRestarts).changesLive,
        "supervisor.restart_window_seconds": .integer(in: 1...86_400, \.restartWindowSeconds).changesLive,
        "supervisor.max_backoff_seconds": .integer(in: 1...3_600, \.maxBackoffSeconds).changesLive,
        "supervisor.shutdown_grace_seconds": .integer(in: 0...600, \.shutdownGraceSeconds).changesLive,
    ]

    /// Applies one setting by its dotted key.
    public mutating func apply(_ key: String, _ value: ConfigFile.Value) throws(ConfigurationError) {
        guard let setting = Self.settings[key] else { throw .unknownSetting(key: key) }
        guard setting.assign(&self, value) else { throw .wrongValue(key: key, expected: setting.expected) }
    }
}
