/// What `chatd status` shows: every process of the system with its state and its figures, and
/// the system's totals. The JSON of `chatd status --json` is this value encoded: its keys are
/// stable (docs/operations.md, Status), and a figure not known (no fresh report from that
/// process) is `null`, never left out.
public struct SystemStatus: Codable, Equatable, Sendable {
    public struct Process: Codable, Equatable, Sendable {
        /// What an operator is shown besides `ChildState.Status`: a process that reports
        /// telemetry but that this supervisor does not run (a gateway on another machine).
        public static let unsupervised = "unsupervised"

        /// `auth`, `router`, `gateway`, `storage-0`.
        public let name: String
        /// The name without its worker index: `storage` for `storage-0`.
        public let role: String
        public let pid: Int32?
        /// `running`, `backing off`, `failing`, `stopped` or `unsupervised`.
        public let state: String
        public let uptimeSeconds: Double?
        /// Restarts since the supervisor started; nil for an unsupervised process.
        public let restarts: Int?
        /// Bus requests of this process awaiting a reply.
        public let requestsInFlight: Int?
        /// Bus requests of this process that timed out within the last minute.
        public let busTimeoutsLastMinute: Int?
        /// Signed-in sessions (gateways).
        public let sessionsOnline: Int?
        /// The partitions this process owns (storage workers), ascending.
        public let partitions: [Int]?
        /// Partitions its map gives it whose lock another worker still holds: moves under way
        /// (or a worker started with a conflicting list), ascending.
        public let partitionsWaiting: [Int]?
        /// The epoch of the partition map it serves by (storage workers).
        public let mapEpoch: Int?

        public init(name: String, role: String, pid: Int32?, state: String, uptimeSeconds: Double?, restarts: Int?,
                    requestsInFlight: Int?, busTimeoutsLastMinute: Int?, sessionsOnline: Int?, partitions: [Int]?,
                    partitionsWaiting: [Int]? = nil, mapEpoch: Int? = nil) {
            self.name = name
            self.role = role
            self.pid = pid
            self.state = state
            self.uptimeSeconds = uptimeSeconds
            self.restarts = restarts
            self.requestsInFlight = requestsInFlight
            self.busTimeoutsLastMinute = busTimeoutsLastMinute
            self.sessionsOnline = sessionsOnline
            self.partitions = partitions
            self.partitionsWaiting = partitionsWaiting
            self.mapEpoch = mapEpoch
        }

        enum CodingKeys: String, CodingKey {
            case name, role, pid, state, restarts, partitions
            case uptimeSeconds = "uptime_seconds"
            case requestsInFlight = "requests_in_flight"
            case busTimeoutsLastMinute = "bus_timeouts_last_minute"
            case sessionsOnline = "sessions_online"
            case partitionsWaiting = "partitions_waiting"
            case mapEpoch = "map_epoch"
        }

        /// Every key always, unknown figures as `null`: scripts can rely on the keys.
        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(role, forKey: .role)
            try container.encode(pid, forKey: .pid)
            try container.encode(state, forKey: .state)
            try container.encode(uptimeSeconds, forKey: .uptimeSeconds)
            try container.encode(restarts, forKey: .restarts)
            try container.encode(requestsInFlight, forKey: .requestsInFlight)
            try container.encode(busTimeoutsLastMinute, forKey: .busTimeoutsLastMinute)
            try container.encode(sessionsOnline, forKey: .sessionsOnline)
            try container.encode(partitions, forKey: .partitions)
            try container.encode(partitionsWaiting, forKey: .partitionsWaiting)
            try container.encode(mapEpoch, forKey: .mapEpoch)
        }
    }

    /// Supervised children in start order, then unsupervised processes by name.
    public let processes: [Process]
    /// Signed-in sessions over every gateway that reported.
    public let sessionsOnline: Int

    public init(processes: [Process], sessionsOnline: Int) {
        self.processes = processes
        self.sessionsOnline = sessionsOnline
    }

    enum CodingKeys: String, CodingKey {
        case processes
        case sessionsOnline = "sessions_online"
    }
}
