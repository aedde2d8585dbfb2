/// Users, their friend lists and the bytes each has stored, whatever keeps them: a SQLite
/// file (`AccountStore`, the embedded default) or PostgreSQL (`PostgresAccountStore`). Used
/// from one thread at a time.
protocol AccountRecords: AnyObject {
    func storedHash(of uid: String) throws -> PasswordHasher.StoredHash?
    /// False when the uid was taken (by an earlier or a concurrent sign-up).
    func create(_ uid: String, _ stored: PasswordHasher.StoredHash) throws -> Bool
    /// False when `friend` was already in the list.
    func addFriend(owner: String, friend: String) throws -> Bool
    func friends(of owner: String) throws -> [String]
    /// Bytes of voice and file messages counted for `uid`, reserved uploads included.
    func storedBytes(of uid: String) throws -> Int64
    /// Counts `bytes` more for `uid` if they fit within `quota`; false, counting nothing, if
    /// not. Counted before the upload starts, so uploads under way count too: two at once
    /// cannot both slip under the quota.
    func reserveStorage(_ bytes: Int64, for uid: String, within quota: StorageQuota) throws -> Bool
    /// `bytes` reserved for an upload that was not stored count no more.
    func releaseStorage(_ bytes: Int64, for uid: String) throws

    // Session resumption tickets (docs/protocol.md), kept only as their SHA-256.
    /// Keeps a ticket of `uid`'s in `family`, issued under the account's current `salt`, good
    /// until `expires` (Unix seconds), unless the family was revoked: false then, nothing
    /// kept. The family's earlier good ticket is superseded (one a device), and so are `uid`'s
    /// good ones past the newest `ticketsKeptPerUser`; tickets that expired before
    /// `forgetBefore` are forgotten, and tombstones past the newest `tombstonesKeptPerUser`.
    func storeTicket(_ hash: String, uid: String, family: String, salt: [UInt8], expires: Int64, forgetBefore: Int64) throws -> Bool
    /// The ticket as it was before this call, if it is `uid`'s and not forgotten; if it was
    /// good and not expired at `now`, it is used now (good once).
    func useTicket(_ hash: String, uid: String, now: Int64) throws -> ResumptionTicket?
    /// Revokes the good tickets of `uid`'s `family` and remembers the family as revoked (no
    /// ticket is issued in it again), durably: on the synchronous connection, so a crash right
    /// after cannot bring one back. False when the family was revoked already.
    func revokeTickets(of uid: String, family: String, now: Int64) throws -> Bool
}

/// How many tickets of a user's auth keeps (`AccountRecords.storeTicket`).
enum TicketLimits {
    /// Good tickets at once (one per device, give or take).
    static let ticketsKeptPerUser = 8
    /// Used and revoked ones, to tell them from tickets never issued until they expire.
    static let tombstonesKeptPerUser = 32
    /// Revoked families remembered (the newest), so that a session of one cannot ask for a
    /// ticket in it again.
    static let revokedFamiliesKeptPerUser = 64
}

extension AccountRecords {
    func exists(_ uid: String) throws -> Bool { try storedHash(of: uid) != nil }
}

extension AccountStore: AccountRecords {}
