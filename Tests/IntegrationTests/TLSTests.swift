import ChatCrypto
import ChatRuntime
import ChatTestSupport
import Foundation
import Testing

/// The gateway's TLS port: the same protocol inside TLS, with a certificate made by
/// `ops/make-tls-certificate.sh`. The client is `openssl s_client`, trusting that
/// certificate and checking the host name, as any TLS client would.
@Suite(.serialized) struct TLSTests {
    /// `openssl s_client` to the TLS port, its standard input and output as the connection.
    private final class TLSClient {
        let process = Process()
        private let input = Pipe(), output = Pipe()
        private var buffered: [UInt8] = []

        init(port: Int, trusting certificate: String) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost",
                                 "-verify_hostname", "localhost", "-verify_return_error", "-quiet"]
                + ["-CAfile", certificate]
            process.standardInput = input
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        deinit { if process.isRunning { process.terminate() } }

        /// Sends `bytes`; nothing if s_client has gone (its handshake refused), which the next
        /// read then shows. (The non-throwing `write` would stop the whole test process.)
        func send(_ bytes: [UInt8]) { try? input.fileHandleForWriting.write(contentsOf: Data(bytes)) }
        func sendLine(_ line: String) { send(Array((line + "\n").utf8)) }

        /// The next `count` bytes, waiting at most `timeout` seconds; nil if the connection
        /// ended first (the handshake refused, say).
        func read(count: Int, timeout: Double = 10) -> [UInt8]? {
            let deadline = Date(timeIntervalSinceNow: timeout)
            while buffered.count < count {
                guard fill(until: deadline) else { return nil }
            }
            defer { buffered.removeFirst(count) }
            return Array(buffered.prefix(count))
        }

        func readLine(timeout: Double = 10) -> String? {
            let deadline = Date(timeIntervalSinceNow: timeout)
            while true {
                if let end = buffered.firstIndex(of: 10) {
                    defer { buffered.removeFirst(end + 1) }
                    return String(decoding: buffered[..<end], as: UTF8.self)
                }
                guard fill(until: deadline) else { return nil }
            }
        }

        /// Adds what arrives before `deadline` to `buffered`; false at the end of the
        /// connection or the deadline.
        private func fill(until deadline: Date) -> Bool {
            let descriptor = output.fileHandleForReading.fileDescriptor
            while Date() < deadline {
                var ready = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                guard poll(&ready, 1, 100) > 0 else { continue }
                var chunk = [UInt8](repeating: 0, count: 65536)
                let got = Glibc.read(descriptor, &chunk, chunk.count)
                guard got > 0 else { return false }
                buffered += chunk.prefix(got)
                return true
            }
            return false
        }

        func ask(_ line: String) -> String? {
            sendLine(line)
            return readLine()
        }
    }

    /// A certificate for `host` (and 127.0.0.1) in a new folder, made as an operator would.
    private func certificate(for host: String = "localhost") throws -> (folder: URL, certificate: String, key: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString.prefix(8))")
        let script = Process()
        script.executableURL = URL(fileURLWithPath: "/bin/bash")
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        script.arguments = [repository.appendingPathComponent("ops/make-tls-certificate.sh").path, folder.path, host]
        script.standardOutput = FileHandle.nullDevice
        try script.run()
        script.waitUntilExit()
        #expect(script.terminationStatus == 0)
        return (folder, folder.appendingPathComponent("certificate.pem").path, folder.appendingPathComponent("private-key.pem").path)
    }

    /// A system whose TLS port serves `certificate` and `key`, and that port.
    private func systemServingTLS(certificate: String, key: String) throws -> (ChatSystem, port: Int) {
        let port = try LocalPorts.free(1)[0]
        let system = try ChatSystem(settings: ["gateway.tls_port=\(port)", "gateway.tls_certificate=\"\(certificate)\"",
                                               "gateway.tls_private_key=\"\(key)\""])
        return (system, port)
    }

    @Test func aClientOverTLSSignsUpChatsAndTransfersAFile() throws {
        let made = try certificate()
        defer { try? FileManager.default.removeItem(at: made.folder) }
        let (system, tlsPort) = try systemServingTLS(certificate: made.certificate, key: made.key)
        defer { system.stop(); system.removeData() }
        #expect(system.log.contains("gateway listening for TLS"))

        let (bob, b) = try system.signedInUser()
        let alice = try TLSClient(port: tlsPort, trusting: made.certificate)
        let a = TestUIDs.make()
        #expect(alice.ask("signup \(a) pw") == "signup successfully")
        #expect(alice.ask("signin \(a) pw") == "signin successfully")
        #expect(alice.ask("\(a) to \(b) 202004131702 text\nover TLS") == "ok")
        #expect(try bob.readLine() == "\(a) to \(b) 202004131702 text")
        #expect(try bob.readLine() == "over TLS")

        let bytes = randomBytes(300_000)
        alice.sendLine("\(a) to \(b) 202004131702 file \(bytes.count)\nsecret.bin")
        #expect(alice.readLine() == "ok")
        alice.send(bytes)
        #expect(alice.readLine(timeout: 30) == "ok")
        // Read back over TLS: streamed, since sendfile cannot pass through TLS.
        #expect(alice.ask("\(a) history \(b) filename secret.bin") == "server_data_size\(bytes.count)")
        alice.sendLine("ok")
        #expect(alice.read(count: bytes.count, timeout: 30).map(SHA256Digest.hash) == SHA256Digest.hash(bytes))
    }

    @Test func aClientThatDoesNotTrustTheCertificateGetsNothing() throws {
        let made = try certificate()
        defer { try? FileManager.default.removeItem(at: made.folder) }
        let (system, tlsPort) = try systemServingTLS(certificate: made.certificate, key: made.key)
        defer { system.stop(); system.removeData() }
        // It trusts another certificate only (as a client trusts its authorities, not this one).
        let other = try certificate()
        defer { try? FileManager.default.removeItem(at: other.folder) }
        let stranger = try TLSClient(port: tlsPort, trusting: other.certificate)
        #expect(stranger.ask("signup \(TestUIDs.make()) pw") == nil)
        stranger.process.waitUntilExit()
        #expect(stranger.process.terminationStatus != 0, "the handshake was refused by the client's own check")
        // The gateway tells the operator, with the client's reason and address.
        try waitUntil("the failed handshake in the log:\n\(system.log)", timeout: .seconds(10)) {
            system.log.contains("TLS handshakes failed") && system.log.contains("gateway.tls_failures=1")
                && system.log.contains("gateway.latest_address=127.0.0.1")
        }
    }

    /// A renewed certificate put in place of the old one and `chatd reload`: new connections
    /// get it (a client trusting only the new one gets in, one trusting only the old one not).
    @Test func aReloadReadsARenewedCertificate() throws {
        let made = try certificate(), renewed = try certificate()
        defer { try? FileManager.default.removeItem(at: made.folder); try? FileManager.default.removeItem(at: renewed.folder) }
        let live = FileManager.default.temporaryDirectory.appendingPathComponent("tls-live-\(UUID().uuidString.prefix(8))")
        try FileManager.default.copyItem(at: made.folder, to: live)
        defer { try? FileManager.default.removeItem(at: live) }
        let certificate = live.appendingPathComponent("certificate.pem").path, key = live.appendingPathComponent("private-key.pem").path
        let (system, tlsPort) = try systemServingTLS(certificate: certificate, key: key)
        defer { system.stop(); system.removeData() }
        #expect(try TLSClient(port: tlsPort, trusting: made.certificate).ask("signup \(TestUIDs.make()) pw") == "signup successfully")

        for name in ["certificate.pem", "private-key.pem"] {
            try Data(contentsOf: renewed.folder.appendingPathComponent(name)).write(to: live.appendingPathComponent(name), options: .atomic)
        }
        kill(system.supervisor.processIdentifier, SIGHUP)
        try waitUntil("the gateway read the renewed pair; log:\n\(system.log)", timeout: .seconds(10)) {
            system.log.contains("TLS certificate read again")
        }
        #expect(try TLSClient(port: tlsPort, trusting: renewed.certificate).ask("signup \(TestUIDs.make()) pw") == "signup successfully")
        #expect(try TLSClient(port: tlsPort, trusting: made.certificate).ask("signup \(TestUIDs.make()) pw") == nil)
    }

    /// `gateway.port = 0`: TLS only. The system serves on its TLS port and on no plaintext
    /// one; without a certificate the supervisor refuses to start at all.
    @Test func thePlaintextPortCanBeTurnedOff() throws {
        let made = try certificate()
        defer { try? FileManager.default.removeItem(at: made.folder) }
        let ports = try LocalPorts.free(5)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tls-only-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let shared = ["--data-dir", folder.path, "--set", "auth.scrypt_n=16", "--set", "gateway.port=0"]
            + LocalPorts.internalEndpointSettings(Array(ports[1...]))
        let refused = try StatusCommandTests.chatd(shared)
        #expect(refused.status != 0)
        #expect((refused.standardOutput + refused.standardError).contains("the gateway would listen nowhere"), "\(refused)")

        let supervisor = Process()
        supervisor.executableURL = ChatSystem.binaries.appendingPathComponent("chatd")
        supervisor.arguments = shared + ["--set", "gateway.tls_port=\(ports[0])", "--set", "gateway.tls_certificate=\"\(made.certificate)\"",
                                         "--set", "gateway.tls_private_key=\"\(made.key)\"", "--exit-with-parent", String(getpid())]
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let logFile = folder.appendingPathComponent("chatd.log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        supervisor.standardOutput = log
        supervisor.standardError = log
        try supervisor.run()
        defer { _ = supervisor.stop(with: SIGTERM) }
        try waitUntil("a sign-up over TLS", timeout: .seconds(30), interval: .milliseconds(200)) {
            try TLSClient(port: ports[0], trusting: made.certificate).ask("signup \(TestUIDs.make()) pw") == "signup successfully"
        }
        let lines = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        #expect(lines.contains("gateway listening for TLS"))
        #expect(!lines.contains("[ChatGateway] gateway listening\n"), "a plaintext port was bound:\n\(lines)")
    }

    // MARK: The `chat` client

    /// `chat --tls --ca-file` trusts a self-signed certificate, checks that it names the host
    /// it was told (`localhost` and 127.0.0.1 are in it; 127.0.0.2, which reaches the same
    /// gateway, is not), and chats as over the plaintext port.
    @Test func chatSpeaksTLSTrustingTheCertificateItIsGiven() throws {
        let made = try certificate()
        defer { try? FileManager.default.removeItem(at: made.folder) }
        let (system, tlsPort) = try systemServingTLS(certificate: made.certificate, key: made.key)
        defer { system.stop(); system.removeData() }
        let (bob, b) = try system.signedInUser()
        let a = TestUIDs.make()
        let chat = try ScriptedChat(["--tls", "--host", "localhost", "--port", String(tlsPort), "--ca-file", made.certificate], script: """
            /signup \(a) pw
            /signin \(a) pw
            /to \(b) over TLS from chat
            /history \(b)
            /quit

            """)
        let output = try chat.finish()
        #expect(output.contains("signin successfully"), "\(output)")
        #expect(output.contains("\(a) -> \(b): over TLS from chat"), "\(output)")
        let header = try bob.readLine()
        #expect(header.hasPrefix("\(a) to \(b) ") && header.hasSuffix(" text"), "\(header)")
        #expect(try bob.readLine() == "over TLS from chat")
        #expect(chat.process.terminationStatus == 0)

        for (host, why) in [("127.0.0.1", ""), ("127.0.0.2", "IP address mismatch")] {
            let signIn = try ScriptedChat(["--tls", "--host", host, "--port", String(tlsPort), "--ca-file", made.certificate],
                                          script: "/signin \(a) pw\n/quit\n")
            let printed = try signIn.finish()
            if why.isEmpty {
                #expect(printed.contains("signin successfully"), "\(printed)")
            } else {
                #expect(printed.contains("the server's certificate is not trusted: \(why)"), "\(printed)")
                #expect(!printed.contains("signin successfully"))
                #expect(signIn.process.terminationStatus != 0)
            }
        }
    }

    /// A trusted certificate for another name is refused just the same: one made for
    /// `chat.example` (and 127.0.0.1) does not do for `--host localhost`.
    @Test func chatChecksTheNameInTheCertificate() throws {
        let made = try certificate(for: "chat.example")
        defer { try? FileManager.default.removeItem(at: made.folder) }
        let (system, tlsPort) = try systemServingTLS(certificate: made.certificate, key: made.key)
        defer { system.stop(); system.removeData() }
        let uid = TestUIDs.make()
        let byAddress = try ScriptedChat(["--tls", "--host", "127.0.0.1", "--port", String(tlsPort), "--ca-file", made.certificate],
                                         script: "/signup \(uid) pw\n")
        #expect(try byAddress.finish().contains("signup successfully"))
        let byOtherName = try ScriptedChat(["--tls", "--host", "localhost", "--port", String(tlsPort), "--ca-file", made.certificate],
                                           script: "/signup \(TestUIDs.make()) pw\n")
        let printed = try byOtherName.finish()
        #expect(printed.contains("the server's certificate is not trusted: hostname mismatch"), "\(printed)")
        #expect(byOtherName.process.terminationStatus != 0)
    }

    /// Without `--ca-file` the client trusts the system's authorities only, which never signed
    /// a self-signed certificate; and `--tls` to the plaintext port says what may be wrong.
    @Test func chatRefusesACertificateItDoesNotTrust() throws {
        let made = try certificate()
        defer { try? FileManager.default.removeItem(at: made.folder) }
        let (system, tlsPort) = try systemServingTLS(certificate: made.certificate, key: made.key)
        defer { system.stop(); system.removeData() }
        let untrusting = try ScriptedChat(["--tls", "--host", "localhost", "--port", String(tlsPort)], script: "/signup \(TestUIDs.make()) pw\n")
        let printed = try untrusting.finish()
        #expect(printed.contains("the server's certificate is not trusted: self-signed certificate"), "\(printed)")
        #expect(!printed.contains("signup successfully"))
        #expect(untrusting.process.terminationStatus != 0)

        let wrongPort = try ScriptedChat(["--tls", "--port", String(system.port), "--ca-file", made.certificate], script: "")
        let answer = try wrongPort.finish()
        #expect(answer.contains("the server's TLS port?"), "\(answer)")
        #expect(wrongPort.process.terminationStatus != 0)
    }

    /// A peer-to-peer transfer forced through the relay (no direct attempt): both sides reach
    /// the relay on the TLS port, and the file arrives whole.
    @Test func thePeerToPeerRelayRunsInTLS() throws {
        let made = try certificate()
        defer { try? FileManager.default.removeItem(at: made.folder) }
        let (system, tlsPort) = try systemServingTLS(certificate: made.certificate, key: made.key)
        defer { system.stop(); system.removeData() }
        let folder = made.folder.appendingPathComponent("p2p")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let tls = ["--tls", "--port", String(tlsPort), "--ca-file", made.certificate, "--p2p-timeout", "0"]
        let run = try PeerToPeerRun.run(folder: folder, size: 3 << 20, senderArguments: tls, receiverArguments: tls) { _, script, arguments in
            try ScriptedChat(arguments, script: script)
        }
        #expect(run.arrivedWhole, "\(run.output)")
        #expect(run.output.contains("p2p: received random.bin from \(run.sender) through the server's relay (TLS)"), "\(run.output)")
        #expect(run.output.contains("p2p: sent random.bin to \(run.receiver) through the server's relay (TLS)"), "\(run.output)")
        #expect(run.leftNoHistory)
    }
}
