import ChatBus
import ChatProtocol
@testable import ChatGateway
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import Testing

/// The connection handler on an `EmbeddedChannel`, with a fake bus the test answers by hand
/// and time that passes only when the test advances it.
@Suite struct ClientConnectionTests {
    static let text = "111111 to 222222 202004131702 text"

    /// Between the connection and the channel: once `isFull`, writes stay queued in the
    /// channel unsent, as they do when a client stops reading and its socket fills.
    final class ClientSocket: ChannelOutboundHandler, @unchecked Sendable {
        typealias OutboundIn = ByteBuffer
        var isFull = false

        func flush(context: ChannelHandlerContext) {
            if !isFull { context.flush() }
        }
    }

    final class Harness {
        let channel = EmbeddedChannel()
        let bus = FakeSessionBus()
        let connection: ClientConnection
        let socket = ClientSocket()

        init(settings: ClientSession.Settings = ClientSession.Settings(), relays: RelayRegistry = RelayRegistry(),
             outputBudget: OutputBudget = OutputBudget(limit: 0), admission: ConnectionAdmission? = nil, id: UInt64 = 1) throws {
            connection = ClientConnection(id: id, channel: channel, bus: bus, registry: SessionRegistry(), relays: relays,
                                          outputBatch: OutputBatch(), outputBudget: outputBudget, settings: settings,
                                          admission: admission, logger: Logger(label: "test"))
            try channel.pipeline.syncOperations.addHandler(socket)
            try channel.pipeline.syncOperations.addHandler(connection)
            try channel.connect(to: SocketAddress(ipAddress: "198.51.100.7", port: 40000)).wait()
        }

        func send(_ text: String) throws {
            try send(Array(text.utf8))
        }

        func send(_ bytes: [UInt8]) throws {
            try channel.writeInbound(channel.allocator.buffer(bytes: bytes))
            channel.embeddedEventLoop.run()
        }

        /// Everything the client has been sent so far, as text.
        func received() throws -> String {
            channel.embeddedEventLoop.run()
            var text = ""
            while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
                text += String(buffer: buffer)
            }
            return text
        }

        func signIn(_ uid: String = "111111") throws {
            try send("signin \(uid) secret_1\n")
            try bus.answerNext(with: .success(.authOutcome(.signedIn)))
            try bus.answerNext(with: .success(.attached))
            #expect(try received() == "signin successfully\n")
        }

        /// The client stops reading: its socket fills and the channel is no longer writable.
        func stopReading() {
            socket.isFull = true
            channel.isWritable = false
            channel.pipeline.fireChannelWritabilityChanged()
            channel.embeddedEventLoop.run()
        }

        func push(_ bytes: [UInt8]) {
            connection.deliverPush(bytes)
            channel.embeddedEventLoop.run()
        }

        func advance(by time: TimeAmount) {
            channel.embeddedEventLoop.advanceTime(by: time)
        }
    }

    /// Signing in gives the connection's place among its address's unauthenticated ones back.
    @Test func signingInStopsCountingAgainstTheAddress() throws {
        let address = try SocketAddress(ipAddress: "198.51.100.7", port: 40000)
        let admission = ConnectionAdmission(limits: ConnectionLimits(maxConnections: 10, maxUnauthenticatedPerAddress: 1),
                                            logger: Logger(label: "test"))
        #expect(admission.admit(1, from: address) == .admitted)
        let harness = try Harness(admission: admission)
        #expect(admission.admit(2, from: address) == .tooManyFromAddress)
        try harness.signIn()
        #expect(admission.admit(3, from: address) == .admitted)
    }

    @Test func pipelinedTextsAreAnsweredInCommandOrder() throws {
        let harness = try Harness()
        try harness.signIn()
        try harness.send("\(Self.text)\none\n\(Self.text)\ntwo\n")
        let texts = harness.bus.texts
        #expect(texts.map { String(decoding: $0.record, as: UTF8.self) } == ["\(Self.text)\none\n", "\(Self.text)\ntwo\n"])

        harness.connection.replyReady(texts[1].slot, .targetUserOffline)
        #expect(try harness.received() == "")
        harness.connection.replyReady(texts[0].slot, .ok)
        #expect(try harness.received() == "ok\nTarget user offline\n")
    }

    @Test func aTextPastTheMessageRateGoesOnWhenTheEventLoopsClockReachesItsToken() throws {
        var settings = ClientSession.Settings()
        settings.messagesPerSecond = 10
        settings.messageBurst = 1
        let harness = try Harness(settings: settings)
        try harness.signIn()
        try harness.send("\(Self.text)\none\n\(Self.text)\ntwo\n")
        #expect(harness.bus.texts.count == 1)
        harness.advance(by: .milliseconds(99))
        #expect(harness.bus.texts.count == 1)
        harness.advance(by: .milliseconds(1))
        #expect(harness.bus.texts.map { String(decoding: $0.record, as: UTF8.self) } == ["\(Self.text)\none\n", "\(Self.text)\ntwo\n"])
    }

    @Test func aTwoLineCommandWhoseSecondLineIsTooLongGetsOneReply() throws {
        var settings = ClientSession.Settings()
        settings.maxBufferedInput = 1 << 20
        let harness = try Harness(settings: settings)
        try harness.signIn()
        try harness.send("\(Self.text)\n" + String(repeating: "x", count: 70_000) + "\n")
        #expect(try harness.received() == "Message too long\n")
        #expect(harness.bus.texts.isEmpty)
    }

    @Test func theLoginDeadlineClosesASilentConnection() throws {
        let harness = try Harness()
        harness.advance(by: .seconds(59))
        #expect(harness.channel.isActive)
        harness.advance(by: .seconds(1))
        #expect(!harness.channel.isActive)
    }

    @Test func aHalfSentLineIsClosedAndThePresenceTakenBack() throws {
        let harness = try Harness()
        try harness.signIn()
        try harness.send("111111 frie")
        harness.advance(by: .seconds(60))
        #expect(!harness.channel.isActive)
        #expect(harness.bus.sent.map(\.message) == [.detach(uid: "111111", connection: 1)])
    }

    @Test func signInElsewhereClosesWithoutADetach() throws {
        let harness = try Harness()
        try harness.signIn()
        harness.connection.kick()
        #expect(try harness.received() == "Signed in elsewhere\n")
        #expect(!harness.channel.isActive)
        #expect(harness.bus.sent.isEmpty)
    }

    /// Starts `size` bytes of a file upload to 222222 and answers storage's go-ahead.
    private func startUpload(_ harness: Harness, size: Int) throws {
        try harness.signIn()
        try harness.send("111111 to 222222 202004131702 file \(size)\nnotes.txt\n")
        try harness.bus.answerNext(with: .success(.existence(true)))
        try harness.bus.answer(where: { if case .reserveStorage = $0 { true } else { false } }, with: .success(.storageReservation(granted: true)))
        try harness.bus.answer(where: { if case .beginUpload = $0 { true } else { false } }, with: .success(.uploadReady(upload: 9)))
        #expect(try harness.received() == "ok\n")
    }

    @Test func anUploadInterruptedMidwayLeavesNothing() throws {
        let harness = try Harness()
        try startUpload(harness, size: 1 << 20)
        try harness.send([UInt8](repeating: 7, count: 300_000))
        let chunks = harness.bus.takeRequests().map(\.message)
        #expect(chunks.count == 1)
        guard case .uploadChunk(9, let bytes) = chunks.first else { Issue.record("no chunk: \(chunks)"); return }
        #expect(bytes.count == Upload.chunkSize)

        try harness.channel.close().wait()
        #expect(harness.bus.sent.map(\.message).contains(.abortUpload(upload: 9)))
    }

    @Test func anUploadHoldsPushesUntilItsFinalReply() throws {
        let harness = try Harness()
        try startUpload(harness, size: 10)
        harness.connection.deliverPush(Array("333333 to 111111 addFriend\n".utf8))
        try harness.send("0123456789111111 friends\n")
        #expect(try harness.received() == "")
        try harness.bus.answer(where: { $0 == .uploadChunk(upload: 9, bytes: Array("0123456789".utf8)) }, with: .success(.chunkStored))
        try harness.bus.answer(where: { $0 == .finishUpload(upload: 9) }, with: .success(.stored(record: [1])))
        #expect(try harness.received() == "")
        try harness.bus.answer(where: { if case .announce = $0 { true } else { false } }, with: .success(.delivery(.recipientOffline)))
        #expect(try harness.received() == "Target user offline\n333333 to 111111 addFriend\n")
        // The line behind the file's bytes is a command again.
        #expect(harness.bus.requests.map(\.message) == [.listFriends(owner: "111111")])
    }

    /// Asks for a stored file of `size` bytes (download 4) and, unless `answer` is nil, answers
    /// its `server_data_size` with it.
    private func startDownload(_ harness: Harness, size: Int64, path: String = "/nonexistent", answer: String? = "ok") throws {
        try harness.signIn()
        try harness.send("111111 history 222222 filename notes.txt\n")
        try harness.bus.answerNext(with: .success(.existence(true)))
        try harness.bus.answerNext(with: .success(.downloadReady(download: 4, size: size, path: path)))
        #expect(try harness.received() == "server_data_size\(size)\n")
        if let answer { try harness.send(answer + "\n") }
    }

    @Test func aDownloadIsReadFromStorageOnlyAsFastAsTheClientTakesIt() throws {
        var settings = ClientSession.Settings()
        settings.sendLocalFiles = false
        let harness = try Harness(settings: settings)
        let size = Int64(6 * Download.chunkSize)
        try startDownload(harness, size: size)
        #expect(harness.bus.requests.count == Download.maxChunksInFlight)

        // The client stops reading: the channel is no longer writable.
        harness.channel.isWritable = false
        harness.channel.pipeline.fireChannelWritabilityChanged()
        try harness.bus.answerNext(with: .success(.chunk([UInt8](repeating: 1, count: Download.chunkSize))))
        #expect(harness.bus.requests.count == Download.maxChunksInFlight - 1)

        harness.channel.isWritable = true
        harness.channel.pipeline.fireChannelWritabilityChanged()
        #expect(harness.bus.requests.count == Download.maxChunksInFlight)
        #expect(try harness.received().utf8.count == Download.chunkSize)
    }

    @Test func aDownloadFromStoragesOwnFileGoesOutWholeThenCommandsResume() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-test-\(UUID().uuidString)")
        try Data("hello".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let harness = try Harness()
        try startDownload(harness, size: 5, path: file.path)
        try harness.send("111111 friends\n")
        harness.channel.embeddedEventLoop.run()
        guard case .fileRegion(let region)? = try harness.channel.readOutbound(as: IOData.self) else {
            Issue.record("no file region"); return
        }
        #expect(region.readableBytes == 5)
        #expect(harness.bus.sent.map(\.message) == [.closeDownload(download: 4)])
        #expect(harness.bus.requests.map(\.message) == [.listFriends(owner: "111111")])
    }

    @Test func relayConnectionsAreSplicedAndPassBytesBothWays() throws {
        let relays = RelayRegistry()
        let first = try Harness(relays: relays), second = try Harness(relays: relays)
        try first.send("p2p relay \(Self.relayToken) \(Self.senderKey)\n")
        try first.bus.answerNext(with: .success(.p2pRelayAllowed(offeredSize: 100)))
        #expect(try first.received() == "")
        try second.send("p2p relay \(Self.relayToken) \(Self.receiverKey)\nearly bytes")
        try second.bus.answerNext(with: .success(.p2pRelayAllowed(offeredSize: 100)))
        first.channel.embeddedEventLoop.run()
        #expect(try second.received() == "p2p relay ready\n")
        #expect(try first.received() == "p2p relay ready\nearly bytes")

        try first.send("back\n")
        #expect(try second.received() == "back\n")
        try second.channel.close().wait()
        first.channel.embeddedEventLoop.run()
        #expect(!first.channel.isActive)
    }

    /// A spliced relay was let in by its token: it no longer counts as not signed in.
    @Test func splicedRelayConnectionsStopCountingAgainstTheirAddress() throws {
        let address = try SocketAddress(ipAddress: "198.51.100.7", port: 40000)
        let admission = ConnectionAdmission(limits: ConnectionLimits(maxConnections: 10, maxUnauthenticatedPerAddress: 2),
                                            logger: Logger(label: "test"))
        let relays = RelayRegistry()
        #expect(admission.admit(1, from: address) == .admitted)
        #expect(admission.admit(2, from: address) == .admitted)
        let first = try Harness(relays: relays, admission: admission, id: 1)
        let second = try Harness(relays: relays, admission: admission, id: 2)
        try first.send("p2p relay \(Self.relayToken) \(Self.senderKey)\n")
        try first.bus.answerNext(with: .success(.p2pRelayAllowed(offeredSize: 100)))
        #expect(admission.admit(3, from: address) == .tooManyFromAddress)
        try second.send("p2p relay \(Self.relayToken) \(Self.receiverKey)\n")
        try second.bus.answerNext(with: .success(.p2pRelayAllowed(offeredSize: 100)))
        first.channel.embeddedEventLoop.run()
        #expect(try second.received() == "p2p relay ready\n")
        #expect(admission.admit(4, from: address) == .admitted)
        #expect(admission.admit(5, from: address) == .admitted)
        #expect(admission.admit(6, from: address) == .tooManyFromAddress)
    }

    @Test func aStoredFileThisMachineCannotOpenIsStreamedFromStorage() throws {
        let harness = try Harness()
        try startDownload(harness, size: 5, path: "/nonexistent/\(UUID().uuidString)")
        #expect(harness.bus.requests.map(\.message) == [.readChunk(download: 4, offset: 0, length: 5)])
        try harness.bus.answerNext(with: .success(.chunk(Array("hello".utf8))))
        #expect(try harness.received() == "hello")
        #expect(harness.bus.sent.map(\.message) == [.closeDownload(download: 4)])
    }

    @Test func aClientThatReadsNothingIsClosedWhenItsHeldPushesGrowTooLarge() throws {
        var settings = ClientSession.Settings()
        settings.maxUnsentOutput = 100
        let harness = try Harness(settings: settings)
        try harness.signIn()
        try harness.send("111111 history 222222 all\n")
        try harness.bus.answerNext(with: .success(.existence(true)))
        try harness.bus.answerNext(with: .success(.historySnapshot(through: 1, size: 38)))
        #expect(try harness.received() == "server_data_size38\n")
        let push = Array("333333 to 111111 202004131702 text\n".utf8) + [UInt8](repeating: 0x61, count: 30) + [0x0a]
        harness.connection.deliverPush(push)
        #expect(harness.channel.isActive)
        harness.connection.deliverPush(push)
        #expect(!harness.channel.isActive)
        // Held pushes are dropped with the connection, not written.
        #expect(try harness.received() == "")
    }

    @Test func aRelayConnectionWhosePartnerNeverComesIsClosedAfterItsWait() throws {
        let harness = try Harness()
        try harness.send("p2p relay \(Self.relayToken) \(Self.senderKey)\n")
        try harness.bus.answerNext(with: .success(.p2pRelayAllowed(offeredSize: 100)))
        harness.advance(by: .seconds(29))
        #expect(harness.channel.isActive)
        harness.advance(by: .seconds(1))
        #expect(!harness.channel.isActive)
    }

    static let relayToken = String(repeating: "ab", count: 16)
    static let senderKey = String(repeating: "1e", count: 16), receiverKey = String(repeating: "2d", count: 16)

    /// Two connections spliced by one registry, each past `p2p relay ready`.
    private func splicedRelay(offeredSize: Int64, settings: ClientSession.Settings = ClientSession.Settings()) throws -> (Harness, Harness) {
        let relays = RelayRegistry()
        let first = try Harness(settings: settings, relays: relays), second = try Harness(settings: settings, relays: relays)
        try first.send("p2p relay \(Self.relayToken) \(Self.senderKey)\n")
        try first.bus.answerNext(with: .success(.p2pRelayAllowed(offeredSize: offeredSize)))
        try second.send("p2p relay \(Self.relayToken) \(Self.receiverKey)\n")
        try second.bus.answerNext(with: .success(.p2pRelayAllowed(offeredSize: offeredSize)))
        first.channel.embeddedEventLoop.run()
        #expect(try first.received() == "p2p relay ready\n")
        #expect(try second.received() == "p2p relay ready\n")
        return (first, second)
    }

    @Test func aSplicedRelayThatCarriesNothingForItsIdleTimeoutIsClosedOnBothSides() throws {
        var settings = ClientSession.Settings()
        settings.relayIdleTimeout = .seconds(60)
        let (first, second) = try splicedRelay(offeredSize: 100, settings: settings)
        first.advance(by: .seconds(30))
        try second.send("ping\n")
        first.channel.embeddedEventLoop.run()
        #expect(try first.received() == "ping\n")
        // Bytes went through both in the last interval: both stay.
        first.advance(by: .seconds(30))
        second.advance(by: .seconds(60))
        #expect(first.channel.isActive && second.channel.isActive)
        // A whole interval without a byte either way: closed, and the partner with it.
        first.advance(by: .seconds(60))
        #expect(!first.channel.isActive)
        second.channel.embeddedEventLoop.run()
        #expect(!second.channel.isActive)
    }

    @Test func aRelaySideThatSendsPastTheOfferedSizeAndMarginIsClosedWithItsPartner() throws {
        let (first, second) = try splicedRelay(offeredSize: 1000)
        let cap = Int(RelayTraffic.byteCap(offeredSize: 1000))
        #expect(cap == 1000 + 10 + 65_536)
        try first.send([UInt8](repeating: 0x61, count: cap - 1))
        try first.send([0x62])
        second.channel.embeddedEventLoop.run()
        let relayed = try second.received()
        #expect(relayed.utf8.count == cap && relayed.hasSuffix("ab"))
        #expect(first.channel.isActive && second.channel.isActive)
        // One byte more than the cap: not passed on; both sides closed.
        try first.send([0x63])
        #expect(!first.channel.isActive)
        second.channel.embeddedEventLoop.run()
        #expect(!second.channel.isActive)
        #expect(!(try second.received()).contains("c"))
    }

    @Test func aStoredFileOfferLeftUnansweredIsClosedAndReleased() throws {
        let harness = try Harness()
        try startDownload(harness, size: 5, answer: nil)
        harness.advance(by: .seconds(59))
        #expect(harness.channel.isActive)
        harness.advance(by: .seconds(1))
        #expect(!harness.channel.isActive)
        #expect(harness.bus.sent.map(\.message).contains(.closeDownload(download: 4)))
    }

    /// What a connection may queue before any of it is backlog (its write buffer's mark).
    static let writeBufferMark = [UInt8](repeating: 0x61, count: 64 * 1024)

    static func push(_ size: Int) -> [UInt8] {
        Array("333333 to 111111 202004131702 text\n".utf8) + [UInt8](repeating: 0x61, count: size - 36) + [0x0a]
    }

    @Test func clientsThatReadNothingAreClosedOnceTheGatewaysOutputBudgetIsSpent() throws {
        let budget = OutputBudget(limit: 1000)
        let reader = try Harness(outputBudget: budget)
        let first = try Harness(outputBudget: budget)
        let second = try Harness(outputBudget: budget)
        for harness in [reader, first, second] { try harness.signIn() }
        for harness in [first, second] {
            harness.stopReading()
            harness.push(Self.writeBufferMark)
        }
        #expect(budget.queuedBytes == 0)

        // 600 unread by each of two, 1,200 in all: over the budget, and the one whose backlog
        // just grew holds more than its half.
        first.push(Self.push(300))
        second.push(Self.push(300))
        first.push(Self.push(300))
        #expect(budget.queuedBytes == 900)
        second.push(Self.push(300))
        #expect(!second.channel.isActive)
        #expect(first.channel.isActive)
        #expect(budget.queuedBytes == 600)

        // A client that reads holds no backlog, however much it is sent.
        for _ in 0..<20 { reader.push(Self.push(300)) }
        #expect(try reader.received().utf8.count == 20 * 300)
        #expect(budget.queuedBytes == 600)

        // Alone over the budget, the first is over its whole share.
        first.push(Self.push(300))
        #expect(first.channel.isActive)
        first.push(Self.push(300))
        #expect(!first.channel.isActive)
        #expect(reader.channel.isActive)
        #expect(budget.queuedBytes == 0)
    }

    @Test func aClientThatReadsAgainGivesItsShareBack() throws {
        let budget = OutputBudget(limit: 1000)
        let harness = try Harness(outputBudget: budget)
        try harness.signIn()
        harness.stopReading()
        harness.push(Self.writeBufferMark)
        harness.push(Self.push(300))
        #expect(budget.queuedBytes == 300)
        harness.socket.isFull = false
        harness.channel.flush()
        harness.channel.isWritable = true
        harness.channel.pipeline.fireChannelWritabilityChanged()
        #expect(budget.queuedBytes == 0)
        #expect(try harness.received().utf8.count == Self.writeBufferMark.count + 300)
    }

    @Test func pushesHeldDuringADataExchangeCountAgainstTheBudget() throws {
        let budget = OutputBudget(limit: 500)
        let harness = try Harness(outputBudget: budget)
        try harness.signIn()
        try harness.send("111111 history 222222 all\n")
        try harness.bus.answerNext(with: .success(.existence(true)))
        try harness.bus.answerNext(with: .success(.historySnapshot(through: 1, size: 38)))
        #expect(try harness.received() == "server_data_size38\n")
        harness.push(Self.push(300))
        #expect(budget.queuedBytes == 300)
        harness.push(Self.push(300))
        #expect(!harness.channel.isActive)
        #expect(budget.queuedBytes == 0)
    }
}
