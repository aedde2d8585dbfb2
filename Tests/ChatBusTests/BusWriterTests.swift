import Testing
@testable import ChatBus

@Suite struct BusWriterTests {
    @Test func integersAreBigEndianAndStringsLengthPrefixed() {
        var writer = BusWriter()
        writer.write(UInt16(0x0102)); writer.write(UInt64(3)); writer.write("hé"); writer.write(bytes: [9])
        #expect(writer.bytes == [1, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 3, 0x68, 0xc3, 0xa9, 0, 0, 0, 1, 9])
    }

    @Test func growingPastItsRoomKeepsEveryByte() {
        let record = [UInt8](repeating: 7, count: 1000)
        let envelopes = (0..<500).map { BusEnvelope(requestId: UInt64($0), message: .push(connection: UInt64($0), bytes: record)) }
        #expect(BusBatchTests.roundTrip(envelopes) == envelopes)
    }

    @Test func aClearedWriterKeepsItsRoomAndWritesAfresh() {
        var writer = BusWriter()
        writer.write(bytes: [UInt8](repeating: 1, count: 5000))
        let room = writer.capacity
        writer.removeAll()
        #expect(writer.isEmpty && writer.bytes.isEmpty)
        #expect(writer.capacity == room)
        writer.write(UInt32(0)); writer.write("ab")
        writer.patch(0xA0B0C0D0, at: 0)
        #expect(writer.bytes == [0xA0, 0xB0, 0xC0, 0xD0, 0, 0, 0, 2, 0x61, 0x62])
        writer.withBytes { #expect(Array($0) == writer.bytes) }
    }
}
