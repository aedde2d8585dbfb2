import ChatTestSupport
import Foundation
import Testing

/// A flood of connections cannot take the gateway down: one address holds only so many
/// connections that have not signed in, the gateway only so many in all (below its
/// file-descriptor limit), and a gateway out of descriptors pauses accepting instead of
/// spinning. Connections past a limit get `Too many connections` and are closed; those signed
/// in carry on.
@Suite struct ConnectionLimitTests {
    @Test func anAddressPastItsLimitIsRefusedWhileAnotherSignsIn() throws {
        let system = try ChatSystem(settings: ["gateway.max_unauthenticated_per_address=3"])
        defer { system.stop(); system.removeData() }

        let held = try (0..<3).map { _ in try admittedClient(system, from: "127.0.0.2") }
        let extra = try TestClient(port: system.port, from: "127.0.0.2")
        #expect(try extra.readLine() == "Too many connections")
        #expect(extra.isClosedByServer(within: 10))

        let other = try TestClient(port: system.port, from: "127.0.0.3")
        try other.signUpAndIn(TestUIDs.make())
        for client in held { #expect(try client.ask("hello") == "Wrong sign command") }
        #expect(system.log.contains("refusing connections at the connection limits"), "log:\n\(system.log)")
    }

    @Test func signedInConnectionsDoNotCountAgainstTheirAddress() throws {
        let system = try ChatSystem(settings: ["gateway.max_unauthenticated_per_address=2"])
        defer { system.stop(); system.removeData() }
        let uids = try (0..<4).map { _ in try system.registeredUser() }

        // Four sessions from one address, twice its limit, each signed in as it connects...
        let sessions = try uids.map { uid in
            let client = try admittedClient(system, from: "127.0.0.2")
            #expect(try client.ask("signin \(uid) pw") == "signin successfully")
            return client
        }
        // ...leave the address its two connections not signed in, and no third.
        let waiting = try (0..<2).map { _ in try admittedClient(system, from: "127.0.0.2") }
        #expect(try TestClient(port: system.port, from: "127.0.0.2").readLine() == "Too many connections")

        // Signing in one of those makes room for one more.
        let uid = try system.registeredUser()
        #expect(try waiting[0].ask("signin \(uid) pw") == "signin successfully")
        let another = try admittedClient(system, from: "127.0.0.2")
        #expect(try another.ask("hello") == "Wrong sign command")
        for (client, uid) in zip(sessions, uids) { #expect(try client.ask("\(uid) friends") == "friends") }
    }

    @Test func theTotalCapRefusesNewConnectionsAndSignedInUsersCarryOn() throws {
        let system = try ChatSystem(settings: ["gateway.max_connections=4"])
        defer { system.stop(); system.removeData() }
        let a = try system.registeredUser(), b = try system.registeredUser()

        // The readiness probe's and sign-ups' connections may hold a place a moment longer.
        let alice = try signedIn(a, system, from: "127.0.0.2")
        let bob = try signedIn(b, system, from: "127.0.0.3")
        let idle = try (0..<2).map { _ in try admittedClient(system, from: "127.0.0.4") }
        #expect(try TestClient(port: system.port, from: "127.0.0.5").readLine() == "Too many connections")

        #expect(try alice.ask("\(a) to \(b) 202004131702 text\nstill here") == "ok")
        #expect(try bob.readLine() == "\(a) to \(b) 202004131702 text")
        #expect(try bob.readLine() == "still here")

        // A place let go is taken again.
        idle[0].abort()
        _ = try admittedClient(system, from: "127.0.0.5")
        withExtendedLifetime(idle) {}
    }

    /// Under a low descriptor limit the gateway's cap is below it, so a flood is refused with a
    /// line rather than failing `accept`.
    @Test func aLowDescriptorLimitLowersTheCap() throws {
        // The gateway inherits the supervisor's limit (300: a cap of 300 - 128). Set from the
        // start: lowered under a running supervisor, any descriptor it had numbered past the
        // new limit would make its next spawn fail (Foundation closes every one up to the highest).
        let system = try ChatSystem(settings: ["gateway.max_unauthenticated_per_address=0"], descriptorLimit: "300:300")
        defer { system.stop(); system.removeData() }
        #expect(system.log.contains("gateway.connection_cap=172 gateway.descriptor_limit=300"), "log:\n\(system.log)")

        let uid = try system.registeredUser()
        let user = try signedIn(uid, system, from: "127.0.0.2")
        var flood: [TestClient] = []
        while flood.count < 200, let client = try reply(toHelloFrom: "127.0.0.3", system) { flood.append(client) }
        #expect((150..<172).contains(flood.count), "admitted \(flood.count)")
        #expect(try TestClient(port: system.port, from: "127.0.0.4").readLine() == "Too many connections")
        #expect(!system.log.contains("accept failed"), "log:\n\(system.log)")
        #expect(try user.ask("\(uid) friends") == "friends")

        flood.removeFirst().abort()
        _ = try admittedClient(system, from: "127.0.0.4")
    }

    @Test func theGatewayRaisesItsDescriptorLimitToTheHardLimit() throws {
        let system = try ChatSystem(descriptorLimit: "300:2000")
        defer { system.stop(); system.removeData() }
        let gateway = try #require(system.childPID("gateway"))
        #expect(system.log.contains("gateway.connection_cap=1800 gateway.descriptor_limit=2000"), "log:\n\(system.log)")
        // "Max open files  <soft>  <hard>  files"
        let limits = try String(contentsOfFile: "/proc/\(gateway)/limits", encoding: .utf8)
        let openFiles = limits.split(separator: "\n").first { $0.hasPrefix("Max open files") }?.split(separator: " ")
        #expect(openFiles.map { Array($0[3...4]) } == ["2000", "2000"], "\(limits)")
    }

    /// Out of descriptors, the gateway stops accepting for a while instead of retrying at once
    /// (which spun a core), serves its sessions meanwhile, and takes the waiting connections
    /// once descriptors are free again.
    @Test func outOfDescriptorsTheGatewayPausesAcceptingAndRecovers() throws {
        let system = try ChatSystem()
        defer { system.stop(); system.removeData() }
        let uid = try system.registeredUser()
        let user = try signedIn(uid, system, from: "127.0.0.2")
        let gateway = try #require(system.childPID("gateway"))
        // Room for a few more descriptors only: the cap, derived at start, is far above this.
        let open = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(gateway)/fd").count
        try setDescriptorLimit(open + 3, of: gateway)

        let clients = try (0..<10).map { _ in try TestClient(port: system.port, from: "127.0.0.3") }
        for client in clients { try client.sendLine("hello") }
        try waitUntil("the gateway to run out of descriptors; log:\n\(system.log)", timeout: .seconds(20)) {
            system.log.contains("accept failed; pausing accepts")
        }
        #expect(try user.ask("\(uid) friends") == "friends")

        let served = clients.filter { $0.hasData(within: 1) }
        #expect(served.count < clients.count)
        for client in served {
            #expect(try client.readLine() == "Wrong sign command")
            client.abort()
        }
        // Each descriptor freed lets one waiting connection in, one pause later.
        for (index, client) in clients.enumerated() where !served.contains(where: { $0 === client }) {
            let line = Result { try client.readLine(timeout: 30) }
            #expect((try? line.get()) == "Wrong sign command", "client \(index): \(line); log:\n\(system.log)")
            client.abort()
        }
    }

    // MARK: Helpers

    /// A new connection from `source` that the gateway took (it answers in the login phase).
    private func admittedClient(_ system: ChatSystem, from source: String) throws -> TestClient {
        var admitted: TestClient?
        try waitUntil("a connection from \(source) to be admitted", timeout: .seconds(20), interval: .milliseconds(50)) {
            admitted = try reply(toHelloFrom: source, system)
            return admitted != nil
        }
        return admitted!
    }

    /// A new connection from `source` that says `hello`: the client if the gateway took it, nil
    /// if it was refused (the refusal line, or the reset of a refused socket holding our line).
    private func reply(toHelloFrom source: String, _ system: ChatSystem) throws -> TestClient? {
        let client = try TestClient(port: system.port, from: source)
        guard (try? client.sendLine("hello")) != nil else { return nil }
        do {
            let line = try client.readLine()
            if line == "Wrong sign command" { return client }
            #expect(line == "Too many connections")
            return nil
        } catch {
            guard "\(error)".contains("closed") else { throw error }
            return nil
        }
    }

    private func signedIn(_ uid: String, _ system: ChatSystem, from source: String) throws -> TestClient {
        let client = try admittedClient(system, from: source)
        #expect(try client.ask("signin \(uid) pw") == "signin successfully")
        return client
    }

    /// Sets the soft and hard `RLIMIT_NOFILE` of a running process, as an operator would.
    private func setDescriptorLimit(_ limit: Int, of pid: Int32) throws {
        try setDescriptorLimit(soft: limit, hard: limit, of: pid)
    }

    private func setDescriptorLimit(soft: Int, hard: Int, of pid: Int32) throws {
        let prlimit = Process()
        prlimit.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
        prlimit.arguments = ["--pid", String(pid), "--nofile=\(soft):\(hard)"]
        try prlimit.run()
        prlimit.waitUntilExit()
        #expect(prlimit.terminationStatus == 0)
    }
}
