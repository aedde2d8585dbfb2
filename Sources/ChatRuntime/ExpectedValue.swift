/// What a setting takes, so that a wrong value can be answered with what would be right.
public enum ExpectedValue: Equatable, Sendable, CustomStringConvertible {
    case string
    case oneOf([String])
    case boolean
    case nonEmptyStrings
    case strings
    case integer(in: ClosedRange<Int>)
    case powerOfTwo(in: ClosedRange<Int>)

    public var description: String {
        switch self {
        case .string: "a string"
        case .oneOf(let choices): "one of " + choices.map { "\"\($0)\"" }.joined(separator: ", ")
        case .boolean: "true or false"
        case .nonEmptyStrings: "a non-empty array of strings"
        case .strings: "an array of strings"
        case .integer(let range): "an integer in \(range)"
        case .powerOfTwo(let range): "a power of two in \(range)"
        }
    }
}
