@testable import ChatBus
import Testing

@Suite struct BusEnvelopeTests {
    static let entry = PresenceEntry(uid: "111111", connection: 7, publicAddress: "203.0.113.5:40000")
    static let everyMessage: [BusMessage] = [
        .signUp(uid: "111111", password: "abc"), .signIn(uid: "111111", password: "abc"),
        .signInFrom(uid: "111111", password: "abc", address: "2001:db8:1:2::/64"), .signInThrottled(retryAfterMilliseconds: 4_000),
        .signUpFrom(uid: "111111", password: "abc", address: "203.0.113.9"), .signUpThrottled(retryAfterMilliseconds: 3_600_000),
        .addFriend(owner: "111111", friend: "222222"), .listFriends(owner: "111111"), .userExists(uid: "111111"),
        .authOutcome(.wrongPassword), .friendList(["222222", "333333"]), .friendList([]), .existence(true),
        .gatewayHello(gatewayId: "gw-1"), .presenceSync([entry, entry]), .presenceSync([]), .attach(entry),
        .detach(uid: "111111", connection: .max),
        .queryPresence(["111111"]), .notify(to: "222222", bytes: Array("x\n".utf8)),
        .routerWelcome(routerInstance: 42, needsSync: true), .attached, .delivery(.recipientOffline),
        .presence([true, false, true]), .push(connection: 3, bytes: []), .kick(connection: 9),
        .deliveredPush(connection: 4, bytes: Array("1 to 2 text\n".utf8)),
        .openHistory(pair: PairKey("111111", "222222")),
        .readHistory(pair: PairKey("111111", "222222"), after: 7, through: 90, maxBytes: 1 << 18),
        .historySnapshot(through: 90, size: 1 << 40), .historyPage(last: 12, bytes: [1, 2, 3]), .failure("disk full"),
        .announce(from: "111111", to: "222222", record: [1]),
        .beginUpload(pair: PairKey("1", "2"), header: [65, 10], name: "a b.txt", size: 1 << 40),
        .uploadChunk(upload: 5, bytes: [0, 10, 13]), .finishUpload(upload: 5), .abortUpload(upload: 6),
        .resumeUpload(pair: PairKey("1", "2"), header: [65, 10], name: "a b.txt", size: 1 << 40, upload: .max, received: 1 << 20),
        .openDownload(pair: PairKey("1", "2"), name: "x"), .readChunk(download: 7, offset: 1 << 33, length: 262_144),
        .closeDownload(download: 7), .uploadReady(upload: 5), .chunkStored, .partitionMapWanted,
        .issueTicket(uid: "111111", family: "0123456789abcdef"), .ticket(String(repeating: "ab", count: 16)),
        .resumeFrom(uid: "111111", ticket: String(repeating: "0f", count: 16), address: "127.0.0.1"), .resumed(family: "fedcba9876543210"),
        .revokeTickets(uid: "111111", family: "0123456789abcdef"), .stored(record: [1, 2]),
        .downloadReady(download: 7, size: 0, path: "/data/files/partition-3/ab"), .noSuchFile, .chunk([]),
        .p2pOffer(from: "111111", to: "222222", size: 9, sha256: "ab", name: "n m", privateEndpoint: "198.18.1.10:4000"),
        .p2pAccept(by: "222222", token: "t", privateEndpoint: "198.18.2.10:5000"), .p2pDecline(by: "2", token: "t"),
        .p2pRelayCheck(token: "t", key: "k"), .p2pOffered(token: "t"),
        .p2pConnect(token: "t", peerPublic: "a:1", peerPrivate: "b:2", relayKey: "k"),
        .p2pDeclined, .p2pUnknown, .p2pRelayAllowed(offeredSize: 1 << 40), .p2pTooManyOffers,
        .storeAndDeliver(pair: PairKey("2", "1"), record: [1, 10], to: "2", gatewayId: "gw"),
        .deliverStored(to: "2", record: [10], gatewayId: "gw", requestId: 77),
        .reserveStorage(uid: "111111", bytes: 1 << 40), .releaseStorage(uid: "111111", bytes: 7),
        .storageReservation(granted: false),
        .partitionMoved(PartitionMap.initial(partitions: 16, workers: ["tcp://127.0.0.1:7910", "tcp://127.0.0.1:7911"])
            .rebalanced(to: ["tcp://127.0.0.1:7911", "tcp://127.0.0.1:7912", "tcp://127.0.0.1:7913"])),
    ]

    @Test func everyMessageRoundTrips() throws {
        for (index, message) in Self.everyMessage.enumerated() {
            let envelope = BusEnvelope(requestId: UInt64(index) * 0x0101_0101_0101, message: message, flags: index.isMultiple(of: 2) ? .reply : [])
            #expect(try BusEnvelope(decoding: envelope.encoded()) == envelope)
        }
    }

    @Test func stringsKeepNonASCIIAndRefuseBadUTF8() throws {
        let name = BusEnvelope(requestId: 1, message: .openDownload(pair: PairKey("1", "2"), name: "résumé 文件.txt"))
        #expect(try BusEnvelope(decoding: name.encoded()) == name)
        // The same envelope with the name's first byte swapped for one that cannot start UTF-8.
        var bytes = BusEnvelope(requestId: 1, message: .failure("é")).encoded()
        bytes[bytes.count - 2] = 0xff
        #expect(throws: BusDecodingError.badValue("string is not UTF-8")) { try BusEnvelope(decoding: bytes) }
    }

    @Test func headerLayoutIsFixed() {
        let bytes = BusEnvelope(requestId: 0x0102_0304_0506_0708, message: .attached, flags: .reply).encoded()
        #expect(bytes == [1, 1, 0, 41, 1, 2, 3, 4, 5, 6, 7, 8])
    }

    @Test func badInputIsAnErrorNotACrash() {
        #expect(throws: BusDecodingError.self) { try BusEnvelope(decoding: []) }
        #expect(throws: BusDecodingError.unsupportedVersion(9)) { try BusEnvelope(decoding: [9, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]) }
        #expect(throws: BusDecodingError.unknownKind(999)) { try BusEnvelope(decoding: [1, 0, 3, 231, 0, 0, 0, 0, 0, 0, 0, 0]) }
        let good = BusEnvelope(requestId: 1, message: .signIn(uid: "111111", password: "pw")).encoded()
        for cut in 0..<good.count {
            #expect(throws: BusDecodingError.self) { try BusEnvelope(decoding: Array(good[..<cut])) }
        }
        #expect(throws: BusDecodingError.trailingBytes(1)) { try BusEnvelope(decoding: good + [0]) }
        // A count claiming more items than bytes left must not allocate or loop on it.
        #expect(throws: BusDecodingError.self) { try BusEnvelope(decoding: [1, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]) }
    }

    /// `partitionMoved` in the wire form: epoch, workers, owners as given, unchecked.
    static func movedBody(epoch: UInt64 = 2, workers: [String], owners: [UInt16], ownerCount: UInt32? = nil) -> [UInt8] {
        var writer = BusWriter()
        writer.write(BusEnvelope.currentVersion); writer.write(BusEnvelope.Flags.reply.rawValue)
        writer.write(BusMessage.Kind.partitionMoved.rawValue); writer.write(UInt64(5))
        writer.write(epoch); writer.write(workers)
        writer.write(ownerCount ?? UInt32(owners.count))
        for owner in owners { writer.write(owner) }
        return writer.bytes
    }

    @Test func aPartitionMapIsCheckedAsItIsDecoded() throws {
        let endpoint = "tcp://127.0.0.1:7910"
        let good = Self.movedBody(workers: [endpoint, "tcp://b"], owners: [1, 0, 1])
        #expect(try BusEnvelope(decoding: good).message == .partitionMoved(try PartitionMap(epoch: 2, workers: [endpoint, "tcp://b"], owners: [1, 0, 1])))
        let hostile: [[UInt8]] = [
            Self.movedBody(workers: [endpoint], owners: [1]),
            Self.movedBody(workers: [endpoint], owners: []),
            Self.movedBody(workers: [], owners: [0]),
            Self.movedBody(workers: [endpoint, endpoint], owners: [0]),
            Self.movedBody(workers: [String(repeating: "e", count: 257)], owners: [0]),
            Self.movedBody(workers: (0..<1025).map { "w\($0)" }, owners: [0]),
            Self.movedBody(workers: [endpoint], owners: [UInt16](repeating: 0, count: 4097)),
            // Counts far past the bytes that follow: refused before anything is allocated for them.
            Self.movedBody(workers: [endpoint], owners: [0], ownerCount: 4096),
            Self.movedBody(workers: [endpoint], owners: [0], ownerCount: .max),
        ]
        for bytes in hostile {
            #expect(throws: BusDecodingError.self) { try BusEnvelope(decoding: bytes) }
        }
        var claimsManyWorkers = good
        claimsManyWorkers.replaceSubrange(20..<24, with: [0, 0, 4, 0])
        #expect(throws: BusDecodingError.truncated) { try BusEnvelope(decoding: claimsManyWorkers) }
        for cut in 0..<good.count {
            #expect(throws: BusDecodingError.self) { try BusEnvelope(decoding: Array(good[..<cut])) }
        }
    }

    @Test func randomBytesNeverCrashTheDecoder() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<10_000 {
            var bytes = (0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if bytes.count > 3 { bytes[0] = 1; bytes[2] = 0 }
            _ = try? BusEnvelope(decoding: bytes)
        }
    }
}

@Suite struct BusBatchTests {
    /// The envelopes as one batch, decoded again; nil if the batch's lengths did not add up.
    static func roundTrip(_ envelopes: [BusEnvelope]) -> [BusEnvelope]? {
        var writer = BusWriter()
        for envelope in envelopes { envelope.append(toBatch: &writer) }
        var decoded: [BusEnvelope] = []
        return BusEnvelope.decode(batch: writer.bytes) { decoded.append($0) } ? decoded : nil
    }

    @Test func aBatchDecodesBackIntoItsEnvelopes() {
        let envelopes = BusEnvelopeTests.everyMessage.enumerated().map { BusEnvelope(requestId: UInt64($0.offset), message: $0.element) }
        #expect(Self.roundTrip(envelopes) == envelopes)
    }

    @Test func anEnvelopeIsReadOnlyWithinItsOwnLength() {
        var writer = BusWriter()
        // A string whose length (5) runs past its envelope (which ends after 2 of its bytes)
        // into the next envelope's bytes: it must be refused, not read from the neighbour.
        writer.write(UInt32(12 + 4 + 2))
        writer.write(UInt8(1)); writer.write(UInt8(0)); writer.write(BusMessage.Kind.gatewayHello.rawValue); writer.write(UInt64(1))
        writer.write(UInt32(5)); writer.write(UInt8(0x61)); writer.write(UInt8(0x62))
        BusEnvelope(requestId: 2, message: .gatewayHello(gatewayId: "gw")).append(toBatch: &writer)
        var outcomes: [UInt64?] = []
        #expect(BusEnvelope.decode(batch: writer.bytes, onUndecodable: { _ in outcomes.append(nil) }) { outcomes.append($0.requestId) })
        #expect(outcomes == [nil, 2])
    }

    @Test func randomBatchesNeverCrashTheDecoder() {
        var generator = SystemRandomNumberGenerator()
        let good = BusEnvelope(requestId: 9, message: .push(connection: 1, bytes: [1, 2, 3])).encoded()
        for _ in 0..<10_000 {
            // A plausible frame: a length near the truth in front of bytes that are partly an envelope.
            var bytes = withUnsafeBytes(of: UInt32(Int.random(in: 0...40, using: &generator)).bigEndian) { Array($0) }
            bytes += good.prefix(Int.random(in: 0...good.count, using: &generator))
            bytes += (0..<Int.random(in: 0...24, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = BusEnvelope.decode(batch: bytes) { _ in }
        }
    }

    @Test func anUndecodableEnvelopeDoesNotStopTheRest() {
        var writer = BusWriter()
        BusEnvelope(requestId: 1, message: .attached).append(toBatch: &writer)
        writer.write(UInt32(3)); writer.write(UInt8(9)); writer.write(UInt16(0))
        BusEnvelope(requestId: 2, message: .chunkStored).append(toBatch: &writer)
        var outcomes: [UInt64?] = []
        #expect(BusEnvelope.decode(batch: writer.bytes, onUndecodable: { _ in outcomes.append(nil) }) { outcomes.append($0.requestId) })
        #expect(outcomes == [1, nil, 2])
    }

    @Test func badLengthsAreRefused() {
        var writer = BusWriter()
        BusEnvelope(requestId: 1, message: .attached).append(toBatch: &writer)
        let bytes = writer.bytes
        var handed = 0
        #expect(!BusEnvelope.decode(batch: Array(bytes.dropLast())) { _ in handed += 1 })
        #expect(!BusEnvelope.decode(batch: bytes + [0, 0]) { _ in handed += 1 })
        #expect(!BusEnvelope.decode(batch: [0, 0, 0, 200, 1]) { _ in handed += 1 })
        #expect(BusEnvelope.decode(batch: []) { _ in handed += 1 })
        #expect(handed == 0)
    }
}
