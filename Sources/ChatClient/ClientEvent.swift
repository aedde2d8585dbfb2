import Foundation

/// Something the client has to tell: a reply, a push, a transfer's phase or progress... For
/// a person it is one or more lines (`lines`, escaped like anything from the network); for a
/// program (`chat --json`) one JSON object per event (`json`): its `event` kind, the `text` a
/// person would read, and the event's own fields, unescaped (JSON escapes what it must).
public struct ClientEvent: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// The server's answer to a command (`reply`: the line as sent).
        case reply
        /// A text, voice or file message, friend request or offer pushed by the server.
        case push
        /// A peer-to-peer transfer's phase or outcome (`phase`).
        case p2p
        /// How far a transfer has come (`label`, `done`, `total` bytes).
        case progress
        /// The history with a peer (`peer`, `records`).
        case history
        /// A downloaded file kept (`path`, `size`).
        case saved
        /// The connection's state, and the client's other notes.
        case notice
        /// A command that failed before or without a reply.
        case error
    }

    public enum Value: Sendable, Equatable {
        case string(String)
        case number(Int64)
        case strings([String])
        case objects([[String: String]])

        var object: Any {
            switch self {
            case .string(let value): return value
            case .number(let value): return value
            case .strings(let values): return values
            case .objects(let values): return values
            }
        }
    }

    public let kind: Kind
    public let lines: [String]
    public let fields: [String: Value]

    public init(_ kind: Kind, _ lines: [String], _ fields: [String: Value] = [:]) {
        self.kind = kind
        self.lines = lines
        self.fields = fields
    }

    public init(_ kind: Kind, _ line: String, _ fields: [String: Value] = [:]) {
        self.init(kind, [line], fields)
    }

    /// One line of JSON, keys sorted.
    public var json: String {
        var object = fields.mapValues(\.object)
        object["event"] = kind.rawValue
        object["text"] = lines.joined(separator: "\n")
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return #"{"event":"error","text":"unprintable event"}"#
        }
        return String(decoding: data, as: UTF8.self)
    }
}
