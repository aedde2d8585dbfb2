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
    /// Keeps a ticket of `uid`'s, issued under the account's current `salt` (a new password
    /// would have another), good until `expires` (Unix seconds); drops `uid`'s expired ones.
    func storeTicket(_ hash: String, uid: String, salt: [UInt8], expires: Int64, now: Int64) throws
    /// Takes the ticket away (it is good once) and returns the salt it was issued under, if it
    /// is `uid`'s and not expired at `now`.
    func takeTicket(_ hash: String, uid: String, now: Int64) throws -> [UInt8]?
    /// Every ticket of `uid`'s stops working.
    func revokeTickets(of uid: String) throws
}

extension AccountRecords {
    func exists(_ uid: String) throws -> Bool { try storedHash(of: uid) != nil }
}

extension AccountStore: AccountRecords {}
