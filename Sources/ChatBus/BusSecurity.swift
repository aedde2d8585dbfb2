import ZeroMQ

/// How the bus's sockets protect what they carry.
public enum BusSecurity: Sendable {
    /// Plain ZeroMQ (`bus.curve = false`): for a trusted single host.
    case none
    /// CurveZMQ with the system's key pair: every connection encrypted, and a bound socket
    /// admits only peers holding the same key (`BusAdmission`).
    case curve(CurveKeyPair)

    /// What a process of the system runs with: the key in `dataDirectory` when `curve`, which
    /// must be there (the supervisor makes it on first start; `chatd keys` elsewhere).
    public static func load(curve: Bool, dataDirectory: String) throws -> BusSecurity {
        guard curve else { return .none }
        guard CurveKeyPair.isSupported else {
            throw BusKeyFile.Problem(path: "", reason: "this libzmq was built without CurveZMQ (libsodium): install Debian's libzmq5, or set bus.curve = false")
        }
        let path = BusKeyFile.path(inDataDirectory: dataDirectory)
        guard let keys = try BusKeyFile.read(from: path) else {
            throw BusKeyFile.Problem(path: path, reason: "missing: the supervisor makes it on its first start; for processes run "
                + "without it, run `chatd keys` once and copy the keys folder to every machine of the system (or set bus.curve = false)")
        }
        return .curve(keys)
    }
}
