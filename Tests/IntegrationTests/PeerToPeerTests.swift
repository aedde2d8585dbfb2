import ChatBenchmark
import ChatTestSupport
import Foundation
import Testing

/// Runs one peer-to-peer transfer between two `chat` clients and checks it arrived whole.
struct PeerToPeerRun {
    let sender: String
    let receiver: String
    let output: String
    let received: Data?
    let original: Data

    /// `launch(script, arguments)` starts a client where the test wants it (a namespace or not).
    static func run(folder: URL, size: Int, senderArguments: [String] = [], receiverArguments: [String] = [],
                    launch: (_ role: String, _ script: String, _ arguments: [String]) throws -> ScriptedChat) throws -> PeerToPeerRun {
        let sender = TestUIDs.make(), receiver = TestUIDs.make()
        let original = Data((0..<size).map { _ in UInt8.random(in: 0...255) })
        let source = folder.appendingPathComponent("random.bin")
        try original.write(to: source)
        let downloads = folder.appendingPathComponent("downloads-\(receiver)")
        let receiving = try launch("receiver", """
            /signup \(receiver) pw
            /signin \(receiver) pw
            /wait-p2p 1 90
            /history \(sender)

            """, ["--accept-p2p", "--downloads", downloads.path] + receiverArguments)
        // The receiver is online (the gateway answers a sign-in once the router has it) before
        // the sender offers it the file.
        try receiving.waitForOutput(containing: ["signin successfully"])
        let sending = try launch("sender", """
            /signup \(sender) pw
            /signin \(sender) pw
            /p2p \(receiver) \(source.path)
            /wait-p2p 1 90

            """, senderArguments)
        // Both wait at most 90 s for their transfer (`/wait-p2p`), then quit.
        let output = try sending.finish(timeout: .seconds(150)) + receiving.finish(timeout: .seconds(150))
        return PeerToPeerRun(sender: sender, receiver: receiver, output: output,
                             received: try? Data(contentsOf: downloads.appendingPathComponent("random.bin")), original: original)
    }

    var arrivedWhole: Bool { received == original }
    var wentDirect: Bool { output.contains("p2p: received random.bin from \(sender) direct") && output.contains("p2p: sent random.bin to \(receiver) direct") }
    var wentThroughRelay: Bool { output.contains("p2p: received random.bin from \(sender) through the server's relay") }
    /// The server stored nothing of it.
    var leftNoHistory: Bool { output.contains("you two have no history yet") }
}

/// Case 4 of the lab: no NAT, on loopback through the shared system.
@Suite struct PeerToPeerLoopbackTests {
    let system = ChatSystem.shared

    private func launch(_ role: String, _ script: String, _ arguments: [String]) throws -> ScriptedChat {
        try ScriptedChat(["--port", String(system.port)] + arguments, script: script)
    }

    private func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("p2p-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func directOnLoopback() throws {
        let folder = try folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try PeerToPeerRun.run(folder: folder, size: 3 << 20, launch: launch)
        #expect(run.arrivedWhole, "\(run.output)")
        #expect(run.wentDirect, "\(run.output)")
        #expect(run.leftNoHistory)
    }

    @Test func relayWhenDirectIsNotTried() throws {
        let folder = try folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A direct timeout of zero makes no attempt: the relay carries it.
        let run = try PeerToPeerRun.run(folder: folder, size: 2 << 20, senderArguments: ["--p2p-timeout", "0"],
                                        receiverArguments: ["--p2p-timeout", "0"], launch: launch)
        #expect(run.arrivedWhole, "\(run.output)")
        #expect(run.wentThroughRelay, "\(run.output)")
        #expect(run.leftNoHistory)
    }

    /// `--json`: the transfer's phases and progress as events a program can follow.
    @Test func jsonModeShowsTheTransfersPhasesAndProgress() throws {
        let folder = try folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // The relay held back, so the route is the direct one however busy the machine.
        let arguments = ["--json", "--p2p-relay-after", "30"]
        let run = try PeerToPeerRun.run(folder: folder, size: 2 << 20, senderArguments: arguments, receiverArguments: arguments,
                                        launch: launch)
        #expect(run.arrivedWhole, "\(run.output)")
        let events = run.output.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
        #expect(events.count == run.output.split(separator: "\n").count, "every line is a JSON object:\n\(run.output)")
        let phases = events.filter { $0["event"] as? String == "p2p" }.compactMap { $0["phase"] as? String }
        #expect(phases.contains("offered") && phases.contains("accepted") && phases.contains("connecting") && phases.contains("sent")
                && phases.contains("received"),
                "\(phases)")
        let received = try #require(events.first { $0["phase"] as? String == "received" })
        #expect(received["route"] as? String == "direct" && received["bytes"] as? Int == 2 << 20)
        #expect(events.contains { $0["event"] as? String == "progress" && $0["done"] as? Int == 2 << 20 && $0["total"] as? Int == 2 << 20 })
        #expect(events.contains { $0["event"] as? String == "push" && $0["kind"] as? String == "p2p offer" })
    }

    /// The receiver killed in the middle of a transfer: the file being written had no name
    /// yet, so nothing is left in its downloads folder; the sender is told the link was lost.
    @Test func aReceiverKilledMidTransferLeavesNoPartialFile() throws {
        let folder = try folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try ReceiverKilledRun.run(folder: folder) { arguments, script in
            try ScriptedChat(["--port", String(system.port)] + arguments, script: script, moreToCome: true)
        }
    }

    /// A receiver that goes offline without answering: the sender is told, as for a decline,
    /// rather than left waiting; the offer is gone.
    @Test func theSenderHearsWhenTheReceiverLeavesWithoutAnswering() throws {
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        let sha = String(repeating: "ab", count: 32)
        let offered = try alice.ask("\(a) p2p offer \(b) 10 \(sha) 127.0.0.1:5000 f.bin")
        #expect(offered.hasPrefix("p2p offered "))
        let token = String(offered.dropFirst("p2p offered ".count))
        #expect(try bob.readLine() == "\(a) to \(b) p2p offer \(token) 10 \(sha) f.bin")
        try bob.send("offline\n")
        #expect(try alice.readLine() == "\(b) to \(a) p2p declined \(token)")
        let bobAgain = try TestClient(port: system.port)
        #expect(try bobAgain.ask("signin \(b) pw") == "signin successfully")
        #expect(try bobAgain.ask("\(b) p2p accept \(token) 127.0.0.1:6000") == "No such transfer")
    }

    @Test func offersAreCheckedAndTokensAreSecret() throws {
        let (alice, a) = try system.signedInUser()
        let (bob, b) = try system.signedInUser()
        let offline = try system.registeredUser()
        let sha = String(repeating: "ab", count: 32)
        #expect(try alice.ask("\(a) p2p offer \(offline) 10 \(sha) 127.0.0.1:5000 f.bin") == "Target user offline")
        #expect(try alice.ask("\(a) p2p offer \(TestUIDs.make()) 10 \(sha) 127.0.0.1:5000 f.bin") == "uid not exits")
        #expect(try alice.ask("\(a) p2p offer \(b) 10 \(sha) 127.0.0.1:5000 ../f") == "Wrong  interact command")
        #expect(try alice.ask("\(a) p2p offer \(b) 10 XYZ 127.0.0.1:5000 f.bin") == "Wrong  interact command")
        #expect(try alice.ask("\(b) p2p offer \(a) 10 \(sha) 127.0.0.1:5000 f.bin") == "Permission denied")
        let offered = try alice.ask("\(a) p2p offer \(b) 10 \(sha) 127.0.0.1:5000 my file.bin")
        #expect(offered.hasPrefix("p2p offered "))
        let token = String(offered.dropFirst("p2p offered ".count))
        #expect(try bob.readLine() == "\(a) to \(b) p2p offer \(token) 10 \(sha) my file.bin")
        // Only the one offered to may answer; a relay needs an accepted offer.
        let (carol, c) = try system.signedInUser()
        #expect(try carol.ask("\(c) p2p accept \(token) 127.0.0.1:6000") == "No such transfer")
        let stranger = try TestClient(port: system.port)
        #expect(try stranger.ask("p2p relay \(token)") == "No such transfer")
        #expect(try bob.ask("\(b) p2p decline \(token)") == "ok")
        #expect(try alice.readLine() == "\(b) to \(a) p2p declined \(token)")
        #expect(try bob.ask("\(b) p2p accept \(token) 127.0.0.1:6000") == "No such transfer")
    }
}

/// Cases 1 to 3 through real Linux NATs in network namespaces (root only).
@Suite(.serialized, .enabled(if: NATLab.isAvailable, "needs root, ip netns and iptables: the NAT lab is skipped"))
struct PeerToPeerNATTests {
    /// One transfer in a fresh lab, from the host at `sender` to the host at `receiver`;
    /// `arguments` go to both clients.
    private func transfer(_ mapping: NATLab.Mapping, from sender: KeyPath<NATLab, String>, to receiver: KeyPath<NATLab, String>,
                          size: Int, arguments: [String] = []) throws -> PeerToPeerRun {
        try inLab(mapping) { lab, folder in
            try PeerToPeerRun.run(folder: folder, size: size, senderArguments: arguments, receiverArguments: arguments) { role, script, extra in
                try lab.chat(in: lab[keyPath: role == "sender" ? sender : receiver], script: script, arguments: extra)
            }
        }
    }

    /// `body` with a fresh lab, its server started, and a folder for the run's files.
    private func inLab<Result>(_ mapping: NATLab.Mapping, _ body: (NATLab, URL) throws -> Result) throws -> Result {
        let lab = try NATLab(mapping: mapping)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("natlab-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer {
            lab.tearDown()
            try? FileManager.default.removeItem(at: folder)
        }
        try lab.startServer(dataDirectory: folder.appendingPathComponent("data"), log: folder.appendingPathComponent("chatd.log"))
        return try body(lab, folder)
    }

    @Test func portPreservingNATsConnectDirectly() throws {
        let run = try transfer(.portPreserving, from: \.hostA, to: \.hostB, size: 4 << 20)
        #expect(run.arrivedWhole, "\(run.output)")
        #expect(run.wentDirect, "\(run.output)")
        #expect(run.output.contains("direct to 203.0.113."), "\(run.output)")
        #expect(run.leftNoHistory)
    }

    @Test func randomisingNATsFallBackToTheRelay() throws {
        let run = try transfer(.randomPorts, from: \.hostA, to: \.hostB, size: 4 << 20)
        #expect(run.arrivedWhole, "\(run.output)")
        #expect(run.wentThroughRelay, "\(run.output)")
        #expect(run.output.contains("trying the server's relay as well"))
        #expect(run.leftNoHistory)
    }

    @Test func randomisingNATsWithoutRelayFailCleanly() throws {
        let run = try transfer(.randomPorts, from: \.hostA, to: \.hostB, size: 1 << 20, arguments: ["--no-relay", "--p2p-timeout", "3"])
        #expect(run.received == nil)
        #expect(run.output.contains("the relay is refused"))
    }

    /// Both clients on one host whose ephemeral ports are nearly all held by TIME-WAIT
    /// sockets: the chat connection binds a port of its own before connecting, so punching can
    /// bind it again, and the transfer goes direct.
    @Test func sameHostTransfersGoDirectAmongTimeWaitSockets() throws {
        try inLab(.portPreserving) { lab, folder in
            let crowd = try lab.crowdEphemeralPorts(in: lab.hostA)
            // Linux gives connect the even ports first (odd ones to bind): 35-46 of those 50 are
            // taken here, so an unbound connect to the server most likely lands on one (the old
            // client's transfer then went through the relay).
            #expect(crowd >= 20, "the ports are crowded: \(crowd) in TIME-WAIT")
            let run = try PeerToPeerRun.run(folder: folder, size: 2 << 20) { _, script, extra in
                try lab.chat(in: lab.hostA, script: script, arguments: extra)
            }
            #expect(run.arrivedWhole, "\(run.output)")
            #expect(run.wentDirect, "\(run.output)")
        }
    }

    /// A receiver behind a NAT killed mid-transfer: nothing left in its downloads folder.
    @Test func aReceiverKilledMidTransferAcrossNATsLeavesNoPartialFile() throws {
        try inLab(.portPreserving) { lab, folder in
            var launched = 0
            try ReceiverKilledRun.run(folder: folder) { arguments, script in
                // The receiver first, behind the second NAT; the sender behind the first.
                launched += 1
                return try lab.chat(in: launched == 1 ? lab.hostB : lab.hostA, script: script, arguments: arguments, moreToCome: true)
            }
        }
    }

    @Test func sameNATConnectsThroughPrivateEndpoints() throws {
        let run = try transfer(.portPreserving, from: \.hostA, to: \.hostA2, size: 4 << 20)
        #expect(run.arrivedWhole, "\(run.output)")
        #expect(run.wentDirect, "\(run.output)")
        #expect(run.output.contains("198.18.1."), "\(run.output)")
        #expect(run.leftNoHistory)
    }
}

/// A transfer of 1 GiB whose receiver is SIGKILLed once it has the file open: the receiver's
/// downloads folder must be left empty, and the sender told. `launch(arguments, script)`
/// starts a client (the receiver first), its input left open.
enum ReceiverKilledRun {
    static func run(folder: URL, launch: (_ arguments: [String], _ script: String) throws -> ScriptedChat) throws {
        // 1 GiB of zeros without writing them (a sparse file): long enough to be caught mid-way.
        let source = folder.appendingPathComponent("big.bin")
        #expect(FileManager.default.createFile(atPath: source.path, contents: nil))
        let handle = try FileHandle(forWritingTo: source)
        try handle.truncate(atOffset: 1 << 30)
        try handle.close()
        let downloads = folder.appendingPathComponent("downloads")
        let sender = TestUIDs.make(), receiver = TestUIDs.make()
        let receiving = try launch(["--accept-p2p", "--downloads", downloads.path], "/signup \(receiver) pw\n/signin \(receiver) pw\n")
        try receiving.waitForOutput(containing: ["signin successfully"])
        let sending = try launch([], "/signup \(sender) pw\n/signin \(sender) pw\n/p2p \(receiver) \(source.path)\n/wait-p2p 1 60\n")
        // The receiver has the file open, without a name, in its downloads folder (`ip netns
        // exec` runs it in its own process, so the pid is the client's).
        let pid = receiving.process.processIdentifier
        try waitUntil("the receiver writing the file; it printed:\n\(receiving.printed)", timeout: .seconds(60), interval: .milliseconds(5)) {
            let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
            return descriptors.contains { fd in
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"))?.hasPrefix(downloads.path + "/") ?? false
            }
        }
        kill(pid, SIGKILL)
        let output = try sending.finish(timeout: .seconds(90))
        #expect(output.contains("p2p: failed"), "\(output)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: downloads.path)) ?? []).isEmpty, "left in downloads")
    }
}
