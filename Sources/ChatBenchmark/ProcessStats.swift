import Foundation
import Synchronization

/// Peak memory and CPU time of the server's processes, read from /proc.
public struct ProcessStats: Sendable {
    public let pid: Int32
    public let role: String
    /// Peak resident set size (VmHWM), in KiB.
    public let peakResidentKiB: Int
    /// Current resident set size (VmRSS), in KiB.
    public let residentKiB: Int
    /// User plus system CPU time, in seconds.
    public let cpuSeconds: Double

    /// When set, only this supervisor and its children count.
    static let supervisor = Mutex<Int32?>(nil)

    /// Every running `chatd` process (of `supervisor`, when set), with its role.
    public static func chatdProcesses() -> [ProcessStats] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        let supervisor = supervisor.withLock { $0 }
        return entries.compactMap { Int32($0) }
            .filter { pid in supervisor.map { pid == $0 || parent(of: pid) == $0 } ?? true }
            .compactMap { read(pid: $0) }.sorted { $0.role < $1.role }
    }

    /// Every process id on the machine.
    static func all() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
    }

    /// Peak RSS (KiB) and CPU seconds of a process, whatever it runs.
    static func usage(of pid: Int32) -> (peakKiB: Int, residentKiB: Int, cpuSeconds: Double)? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        func kib(_ field: String) -> Int {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }) else { return 0 }
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        }
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let cpu = fields.count > 12 ? ((Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)) / ticks : 0
        return (kib("VmHWM"), kib("VmRSS"), cpu)
    }

    static func parent(of pid: Int32) -> Int32? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    static func read(pid: Int32) -> ProcessStats? {
        guard let raw = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
        let arguments = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        guard let executable = arguments.first, executable.hasSuffix("/chatd") || executable == "chatd" else { return nil }
        var role = arguments.count > 1 && !arguments[1].hasPrefix("-") ? arguments[1] : "supervisor"
        // Workers of one role are told apart by their index (`storage-1`, `auth-0`).
        if role == "storage" || role == "auth", let index = arguments.firstIndex(of: "--index"), index + 1 < arguments.count {
            role += "-\(arguments[index + 1])"
        }
        guard let usage = usage(of: pid) else { return nil }
        return ProcessStats(pid: pid, role: role, peakResidentKiB: usage.peakKiB, residentKiB: usage.residentKiB, cpuSeconds: usage.cpuSeconds)
    }

    /// Resets the kernel's peak-RSS mark, so a peak measures only what follows.
    public static func resetPeak(pid: Int32) {
        try? "5".write(toFile: "/proc/\(pid)/clear_refs", atomically: false, encoding: .utf8)
    }
}
