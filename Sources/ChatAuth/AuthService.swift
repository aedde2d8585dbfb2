import ChatBus
import ChatCrypto
import ChatRuntime
import Dispatch
import Foundation
import Logging

/// The auth worker: accounts and friend lists. Answers requests on its ROUTER socket.
///
/// Hashing is slow on purpose (scrypt), so it runs on a small pool of threads sized to the
/// cores; the bus thread only touches SQLite and sockets and stays responsive for cheap
/// requests such as `userExists`.
///
/// Failed sign-ins are counted per client address and per account (`SignInThrottle`), and
/// sign-ups per address (`SignUpLimit`); one that must wait is refused before any lookup or hash.
///
/// Unchecked: its mutable state (`store`, `nextHashingQueue`, the throttles) is set up in `run` before the loop
/// starts, then touched on the loop's thread only (hashing threads get values and hand results
/// back with `loop.execute`); `stop()` only stops the (thread-safe) loop.
public final class AuthService: @unchecked Sendable {
    private let configuration: ChatConfiguration
    private let logger: Logger
    private let loop: BusLoop
    private let hasher: PasswordHasher
    private let hashingQueues: [DispatchQueue]
    private var nextHashingQueue = 0
    private let index: Int
    /// Bounds the hashing backlog and skips hashes nobody waits for (loop thread only).
    private var admission: HashingAdmission
    /// Keeps one address from taking the whole backlog (loop thread only).
    private var hashesPerAddress: HashesPerAddress
    /// Failed sign-ins per address and per account (loop thread only).
    private var throttle: SignInThrottle
    /// Accounts signed up per address (loop thread only).
    private var signUps: SignUpLimit
    /// Bytes each user may store (loop thread only).
    private var storageQuota: StorageQuota
    private var store: (any AccountRecords)!
    private let metrics = AuthMetrics()

    /// `security`: the bus's (`BusSecurity.load`).
    /// `index`: which of `configuration.authEndpoints` this worker binds.
    public init(configuration: ChatConfiguration, index: Int = 0, security: BusSecurity, logger: Logger) {
        self.configuration = configuration
        self.index = index
        self.logger = logger
        loop = BusLoop(requestTimeout: .milliseconds(configuration.requestTimeoutMilliseconds), security: security, logger: logger)
        hasher = PasswordHasher(cost: Scrypt(n: UInt64(configuration.scryptN), r: UInt64(configuration.scryptR), p: UInt64(configuration.scryptP)))
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        hashingQueues = (0..<cores).map { DispatchQueue(label: "auth.hashing.\($0)") }
        admission = HashingAdmission(maxQueued: configuration.maxQueuedHashes,
                                     requesterPatienceNanos: UInt64(configuration.requestTimeoutMilliseconds) * 1_000_000)
        hashesPerAddress = HashesPerAddress(limit: configuration.maxHashesPerAddress)
        throttle = SignInThrottle(configuration)
        signUps = SignUpLimit(configuration)
        storageQuota = StorageQuota(maxBytesPerUser: configuration.maxStoredBytesPerUser)
    }

    /// Blocks until `stop()`.
    public func run() throws {
        if configuration.authBackend == "postgres" {
            store = try PostgresAccountStore(url: configuration.authPostgresURL)
        } else {
            let folder = "\(configuration.dataDirectory)/auth"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            store = try AccountStore(path: "\(folder)/accounts.sqlite")
        }
        guard configuration.authEndpoints.indices.contains(index) else {
            throw ConfigurationError("auth index \(index) has no endpoint in auth.endpoints")
        }
        let endpoint = configuration.authEndpoints[index]
        _ = try loop.bindRouter(endpoint)
        logger.info("auth ready", metadata: ["bus.endpoint": "\(endpoint)"])
        loop.run(handler: handle)
    }

    public func stop() { loop.stop() }

    /// Takes the limits of a reload, on the loop's thread, where they are read. Counts so far
    /// stay; a hash under way past a lowered limit finishes.
    public func apply(_ configuration: ChatConfiguration) {
        loop.execute {
            self.admission.maxQueued = configuration.maxQueuedHashes
            self.hashesPerAddress.limit = configuration.maxHashesPerAddress
            self.throttle.adopt(configuration)
            self.signUps.adopt(configuration)
            self.storageQuota = StorageQuota(maxBytesPerUser: configuration.maxStoredBytesPerUser)
        }
    }

    private func handle(_ incoming: BusIncoming) {
        do {
            switch incoming.message {
            case .signUp(let uid, let password):
                try signUp(incoming, uid: uid, password: password, address: nil)
            case .signUpFrom(let uid, let password, let address):
                try signUp(incoming, uid: uid, password: password, address: address)
            case .signIn(let uid, let password):
                try signIn(incoming, uid: uid, password: password, address: nil)
            case .signInFrom(let uid, let password, let address):
                // The address was range-checked with the other fields (`BusMessage.fieldProblem`).
                try signIn(incoming, uid: uid, password: password, address: address)
            case .userExists(let uid):
                loop.reply(to: incoming, with: .existence(try store.exists(uid)))
            case .addFriend(let owner, let friend):
                guard try store.exists(friend) else { return loop.reply(to: incoming, with: .authOutcome(.unknownUid)) }
                let added = try store.addFriend(owner: owner, friend: friend)
                loop.reply(to: incoming, with: .authOutcome(added ? .friendAdded : .alreadyFriends))
            case .listFriends(let owner):
                loop.reply(to: incoming, with: .friendList(try store.friends(of: owner)))
            case .reserveStorage(let uid, let bytes):
                loop.reply(to: incoming, with: .storageReservation(granted: try reserveStorage(bytes, for: uid)))
            case .releaseStorage(let uid, let bytes):
                releaseStorage(bytes, for: uid)
            case .issueTicket(let uid, let family):
                try issueTicket(incoming, uid: uid, family: family)
            case .resumeFrom(let uid, let ticket, let address):
                try resume(incoming, uid: uid, ticket: ticket, address: address.isEmpty ? nil : address)
            case .revokeTickets(let uid, let family):
                // One-way: a failure is logged, not answered.
                _ = revokeTickets(of: uid, family: family)
            default:
                loop.reply(to: incoming, with: .failure("auth does not handle \(incoming.message.kind)"))
            }
        } catch {
            logger.error("auth request failed", metadata: ["auth.error": "\(error)", "bus.kind": "\(incoming.message.kind)"])
            loop.reply(to: incoming, with: .failure("\(error)"))
        }
    }

    /// Refused unchecked while the address has signed up its allowance lately; otherwise its
    /// hash takes a place in the address's share of the queue, and an account it creates (or a
    /// taken uid it names) counts.
    /// Counted when created, so up to the address's share of hashes may be under way past the
    /// check at once: the allowance can be overshot by fewer than that many, never more.
    private func signUp(_ incoming: BusIncoming, uid: String, password: String, address: String?) throws {
        if let wait = signUps.wait(address: address, now: DispatchTime.now().uptimeNanoseconds) {
            metrics.signUpsThrottled.increment()
            return loop.reply(to: incoming, with: .signUpThrottled(retryAfterMilliseconds: UInt32(clamping: wait / 1_000_000)))
        }
        if try store.exists(uid) {
            // Counted too: otherwise signing up taken uids would list them faster than signing in may.
            countSignUp(uid: uid, address: address)
            metrics.signUpsTaken.increment()
            return loop.reply(to: incoming, with: .authOutcome(.uidTaken))
        }
        offload(incoming, address: address, work: { [hasher] in try hasher.hash(password) }) { stored in
            // Taken meanwhile (two sign-ups raced for it) counts as naming a taken uid does.
            let created = try self.store.create(uid, stored)
            self.countSignUp(uid: uid, address: address)
            (created ? self.metrics.signUpsSucceeded : self.metrics.signUpsTaken).increment()
            return .authOutcome(created ? .signedUp : .uidTaken)
        }
    }

    private func countSignUp(uid: String, address: String?) {
        let now = DispatchTime.now().uptimeNanoseconds
        let wasAllowed = signUps.wait(address: address, now: now) == nil
        let wait = signUps.signedUp(address: address, now: now)
        // One line when an address uses up its allowance: not one per refusal, nor one per
        // sign-up that was already being hashed then.
        guard wasAllowed, wait > 0 else { return }
        logger.notice("auth: sign-ups from one address; refusing more", metadata: [
            "auth.uid": "\(uid)", "auth.address": "\(address ?? "-")", "auth.wait_ms": "\(wait / 1_000_000)",
        ])
    }

    /// Refused unchecked while the address or account must wait; otherwise every outcome,
    /// an unknown uid included, is counted.
    private func signIn(_ incoming: BusIncoming, uid: String, password: String, address: String?) throws {
        if let wait = throttle.wait(account: uid, address: address, now: DispatchTime.now().uptimeNanoseconds) {
            metrics.signInsThrottled.increment()
            return loop.reply(to: incoming, with: .signInThrottled(retryAfterMilliseconds: UInt32(clamping: wait / 1_000_000)))
        }
        guard let stored = try store.storedHash(of: uid) else {
            record(.unknownUid, uid: uid, address: address)
            return loop.reply(to: incoming, with: .authOutcome(.unknownUid))
        }
        offload(incoming, address: address, work: { try PasswordHasher.verify(password, against: stored) }) { matches in
            self.record(matches ? .signedIn : .wrongPassword, uid: uid, address: address)
            return .authOutcome(matches ? .signedIn : .wrongPassword)
        }
    }

    /// A new resumption ticket for `uid` (signed in at the gateway that asks) in the session's
    /// `family`: 128 random bits, kept only as their SHA-256, bound to the account's current
    /// salt. None in a revoked family: a thief's session, still open after its family was
    /// revoked, gets no new ticket.
    private func issueTicket(_ incoming: BusIncoming, uid: String, family: String) throws {
        guard let account = try store.storedHash(of: uid) else { return loop.reply(to: incoming, with: .failure("no such account")) }
        let ticket = SecureRandom.bytes(16).hexString
        let now = Int64(Date().timeIntervalSince1970)
        let lifetime = Int64(configuration.resumeTicketSeconds)
        // Tombstones outlive their ticket by a lifetime: one used or expired near its end is
        // still told from a guess for as long again.
        guard try store.storeTicket(SHA256Digest.hexHash(ticket), uid: uid, family: family, salt: account.salt,
                                    expires: now + lifetime, forgetBefore: now - lifetime) else {
            return loop.reply(to: incoming, with: .authOutcome(.ticketFamilyRevoked))
        }
        metrics.ticketsIssued.increment()
        loop.reply(to: incoming, with: .ticket(ticket))
    }

    /// A sign-in with a ticket: a lookup, no hash to compute. Throttled as password sign-ins
    /// are; a ticket never issued (or another account's) counts as a wrong password does. One
    /// issued but no longer good is its owner's (expired, revoked, superseded, from before a
    /// new password), refused without counting. A used one (a copy, or a resume whose reply
    /// was lost) revokes its family, which a thief holding the family's newer ticket would
    /// otherwise keep renewing, and counts: whoever sends it again and again is throttled.
    private func resume(_ incoming: BusIncoming, uid: String, ticket: String, address: String?) throws {
        if let wait = throttle.wait(account: uid, address: address, now: DispatchTime.now().uptimeNanoseconds) {
            metrics.signInsThrottled.increment()
            return loop.reply(to: incoming, with: .signInThrottled(retryAfterMilliseconds: UInt32(clamping: wait / 1_000_000)))
        }
        let now = Int64(Date().timeIntervalSince1970)
        let found = try store.useTicket(SHA256Digest.hexHash(ticket), uid: uid, now: now)
        let account = try store.storedHash(of: uid)
        let verdict = ResumptionTicket.verdict(on: found, accountSalt: account?.salt, now: now)
        metrics.count(verdict)
        switch verdict {
        case .resumed(let family):
            record(.signedIn, uid: uid, address: address)
            return loop.reply(to: incoming, with: .resumed(family: family))
        case .unknown:
            // An unknown uid is told `Wrong Password` too, but counted as unknown: the throttle
            // keeps no entry for accounts that do not exist.
            record(account == nil ? .unknownUid : .wrongPassword, uid: uid, address: address)
        case .stale:
            break
        case .reused(let family):
            // Logged once a family, however often its used tickets come back.
            if revokeTickets(of: uid, family: family) {
                logger.warning("auth: a used resumption ticket presented again; revoking its family", metadata: [
                    "auth.uid": "\(uid)", "auth.address": "\(address ?? "-")", "auth.ticket_family": "\(family)",
                ])
            }
            record(.wrongPassword, uid: uid, address: address)
        }
        loop.reply(to: incoming, with: .authOutcome(.wrongPassword))
    }

    /// Whether the family was revoked now (not before); a failure is logged.
    private func revokeTickets(of uid: String, family: String) -> Bool {
        do {
            return try store.revokeTickets(of: uid, family: family, now: Int64(Date().timeIntervalSince1970))
        } catch {
            logger.error("resumption tickets not revoked", metadata: ["auth.uid": "\(uid)", "auth.error": "\(error)"])
            return false
        }
    }

    private func record(_ outcome: SignInThrottle.Outcome, uid: String, address: String?) {
        metrics.count(outcome)
        if outcome != .signedIn {
            // One line per failure the throttle let through (refused attempts are not logged),
            // so an operator sees who guesses at what, from where, at the rate the throttle allows.
            logger.info("auth: sign-in failed", metadata: [
                "auth.uid": "\(uid)", "auth.address": "\(address ?? "-")", "auth.reason": "\(outcome)",
            ])
        }
        let wait = throttle.record(outcome, account: uid, address: address, now: DispatchTime.now().uptimeNanoseconds)
        // At most one line per wait started, so a storm cannot flood the log.
        guard wait > 0 else { return }
        logger.notice("auth: failed sign-ins; throttling", metadata: [
            "auth.uid": "\(uid)", "auth.address": "\(address ?? "-")", "auth.wait_ms": "\(wait / 1_000_000)",
        ])
    }

    /// Runs `work` on a hashing thread, then `finish` back on the bus thread to reply; refused
    /// at once when the hashing backlog is full or `address` has its share of it, skipped when
    /// its requester stopped waiting.
    private func offload<T: Sendable>(_ incoming: BusIncoming, address: String? = nil, work: @escaping @Sendable () throws -> T,
                                      finish: @escaping @Sendable (T) throws -> BusMessage) {
        guard hashesPerAddress.admit(address) else {
            logger.debug("auth busy: the address has its share of the hashing backlog; refusing", metadata: ["auth.address": "\(address ?? "-")"])
            return loop.reply(to: incoming, with: .failure("auth busy for this address"))
        }
        guard admission.admit() else {
            hashesPerAddress.finished(address)
            logger.warning("auth busy: hashing backlog full; refusing", metadata: ["auth.queued": "\(admission.queued)"])
            return loop.reply(to: incoming, with: .failure("auth busy"))
        }
        let queue = hashingQueues[nextHashingQueue]
        nextHashingQueue = (nextHashingQueue + 1) % hashingQueues.count
        let receivedAt = DispatchTime.now().uptimeNanoseconds
        let admission = self.admission
        queue.async {
            if admission.isStale(receivedAt: receivedAt, now: DispatchTime.now().uptimeNanoseconds) {
                // The requester has answered `Service unavailable` already: no reply is awaited.
                return self.loop.execute {
                    self.admission.finished()
                    self.hashesPerAddress.finished(address)
                    self.logger.info("auth skipped a hash nobody waits for any more", metadata: ["bus.kind": "\(incoming.message.kind)"])
                }
            }
            let result = Result { try work() }
            self.loop.execute {
                self.admission.finished()
                self.hashesPerAddress.finished(address)
                do {
                    self.loop.reply(to: incoming, with: try finish(result.get()))
                } catch {
                    self.logger.error("auth request failed", metadata: ["auth.error": "\(error)"])
                    self.loop.reply(to: incoming, with: .failure("\(error)"))
                }
            }
        }
    }
}

// MARK: Stored bytes per user

extension AuthService {
    /// Counts an upload's declared size against its sender's quota before a byte is stored.
    private func reserveStorage(_ bytes: Int64, for uid: String) throws -> Bool {
        let granted = try store.reserveStorage(bytes, for: uid, within: storageQuota)
        if !granted {
            logger.notice("storage quota exceeded", metadata: ["auth.uid": "\(uid)", "auth.bytes": "\(bytes)"])
        }
        return granted
    }

    /// One-way (the gateway awaits no answer), so a failure is logged here, never replied to.
    private func releaseStorage(_ bytes: Int64, for uid: String) {
        do {
            try store.releaseStorage(bytes, for: uid)
        } catch {
            logger.error("storage release failed", metadata: ["auth.error": "\(error)", "auth.uid": "\(uid)"])
        }
    }
}
