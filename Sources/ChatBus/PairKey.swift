/// The two users of a conversation, in a fixed order so both directions share one history.
public struct PairKey: Hashable, Sendable, CustomStringConvertible {
    public let low: String
    public let high: String
    /// `low-high`: the storage key and the partition hash's input, built once.
    public let description: String

    public init(_ first: String, _ second: String) {
        if first <= second { (low, high) = (first, second) } else { (low, high) = (second, first) }
        description = "\(low)-\(high)"
    }

    func encode(into writer: inout BusWriter) {
        writer.write(low); writer.write(high)
    }

    init(decoding reader: inout BusReader) throws {
        self.init(try reader.read() as String, try reader.read() as String)
    }
}
