import Foundation
import ZeroMQ

/// The system's bus key: `<data_dir>/keys/bus.secret`, its CurveZMQ secret key in Z85 on one
/// line (the public key is derived from it). Every process of one system holds the same file;
/// it is owner-only, in an owner-only folder, and refused otherwise, as ssh refuses a key
/// others can read.
public enum BusKeyFile {
    public static func path(inDataDirectory folder: String) -> String { "\(folder)/keys/bus.secret" }

    public struct Problem: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "bus key \(path): \(reason)" }
    }

    /// The key pair in the file; nil when there is no file. Read through one descriptor,
    /// opened without following a symbolic link, and refused unless this user owns it and
    /// nobody else may read it.
    public static func read(from path: String) throws -> CurveKeyPair? {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw Problem(path: path, reason: "cannot be opened (errno \(errno); a symbolic link is refused)")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw Problem(path: path, reason: "cannot be read (errno \(errno))") }
        guard status.st_uid == geteuid() else { throw Problem(path: path, reason: "owned by uid \(status.st_uid), not this process's user") }
        guard status.st_mode & 0o077 == 0 else {
            throw Problem(path: path, reason: "readable by others (mode \(String(status.st_mode & 0o777, radix: 8))): chmod 600 it")
        }
        var bytes = [UInt8](repeating: 0, count: 128)
        let count = bytes.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { throw Problem(path: path, reason: "cannot be read (errno \(errno))") }
        let text = String(decoding: bytes.prefix(count), as: UTF8.self)
        do {
            return try CurveKeyPair(secretKey: text.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            throw Problem(path: path, reason: "not a bus key (\(error))")
        }
    }

    /// Writes a new key, replacing any (`rotate`), or only when there is none; returns the key
    /// in force and whether it was made now. The folder is made owner-only, the file is
    /// written owner-only and fsynced before it is put in place (`DurableFile`).
    @discardableResult
    public static func create(at path: String, rotate: Bool = false) throws -> (keys: CurveKeyPair, created: Bool) {
        if !rotate, let existing = try read(from: path) { return (existing, false) }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        guard chmod(folder, 0o700) == 0 else { throw Problem(path: folder, reason: "cannot be made owner-only (errno \(errno))") }
        let keys = try CurveKeyPair.generate()
        let temporary: String
        do {
            temporary = try DurableFile.writeTemporary(Array((keys.secretKey + "\n").utf8), beside: path, mode: 0o600)
        } catch {
            throw Problem(path: path, reason: error.description)
        }
        // A rotation replaces the key; a first key is linked in only if none appeared meanwhile
        // (`chatd keys` beside a first start): the one that was first stays.
        let placed = rotate ? rename(temporary, path) == 0 : link(temporary, path) == 0
        let placeError = errno
        unlink(temporary)
        guard placed else {
            if !rotate, placeError == EEXIST, let existing = try read(from: path) { return (existing, false) }
            throw Problem(path: path, reason: "cannot be put in place (errno \(placeError))")
        }
        return (keys, true)
    }
}
