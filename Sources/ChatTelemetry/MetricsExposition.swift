/// Prometheus's text exposition format, as far as chatd reads it: the samples of one process's
/// report (for `chatd status`), and the reports of all processes merged into one page, each
/// sample labelled with its `process` (for the metrics endpoint).
public enum MetricsExposition {
    public struct Sample: Equatable, Sendable {
        /// The series name as written: `chat_texts_stored_total`, `chat_bus_request_seconds_bucket`.
        public let name: String
        public let labels: [String: String]
        public let value: Double
    }

    /// The samples of `text`; comments, blank lines and lines that do not parse are skipped.
    public static func samples(_ text: String) -> [Sample] {
        text.split(separator: "\n").compactMap { parseSample(Substring($0)) }
    }

    /// One page of every report's families, each family once (its HELP and TYPE lines from the
    /// first report that has it) with the samples of all, each labelled `process="<name>"`.
    /// Reports in the given order, families in order of first appearance.
    public static func merged(_ reports: [(process: String, metrics: String)]) -> String {
        var order: [String] = []
        var headers: [String: [Substring]] = [:]
        var lines: [String: [String]] = [:]
        for (process, metrics) in reports {
            var family = ""
            for line in metrics.split(separator: "\n") {
                if line.hasPrefix("#") {
                    let words = line.split(separator: " ", maxSplits: 3)
                    guard words.count >= 3, isMetricName(words[2]),
                          words[1] == "HELP" || (words[1] == "TYPE" && words.count == 4 && Self.types.contains(words[3])) else { continue }
                    family = String(words[2])
                    if headers[family] == nil { order.append(family); headers[family] = [] }
                    // One HELP and one TYPE line per family, however many processes have it.
                    if !headers[family]!.contains(where: { $0.split(separator: " ", maxSplits: 2)[1] == words[1] }) {
                        headers[family]!.append(line)
                    }
                } else if let labelled = labelling(line, process: process) {
                    if headers[family] == nil { order.append(family); headers[family] = [] }
                    lines[family, default: []].append(labelled)
                }
            }
        }
        var page = ""
        for family in order {
            for header in headers[family]! { page += header + "\n" }
            for line in lines[family, default: []] { page += line + "\n" }
        }
        return page
    }

    /// `line` with `process="<process>"` first among its labels, written anew from what was
    /// parsed, or nil when it is no sample Prometheus would take: a report comes from whoever
    /// reaches the telemetry endpoint, and one bad line (a name with a space, a label twice, a
    /// second `process` label, a value Prometheus cannot read) fails the whole scrape.
    static func labelling(_ line: Substring, process: String) -> String? {
        guard let parsed = parseLine(line), isMetricName(parsed.name),
              parsed.labels.allSatisfy({ isLabelName($0.key) && $0.key != "process" }) else { return nil }
        let labels = [("process", process)] + parsed.labels
        return "\(parsed.name){\(labels.map { "\($0)=\"\(escaped($1))\"" }.joined(separator: ","))} \(parsed.valueText)"
    }

    /// The metric types a `# TYPE` line may name.
    static let types: Set<Substring> = ["counter", "gauge", "histogram", "summary", "untyped"]

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`, Prometheus's metric names.
    static func isMetricName<Name: StringProtocol>(_ name: Name) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == ":") }
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`, Prometheus's label names.
    static func isLabelName(_ name: String) -> Bool {
        isMetricName(name) && !name.contains(":")
    }

    static func escaped(_ value: String) -> String {
        var result = ""
        for character in value {
            switch character {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            default: result.append(character)
            }
        }
        return result
    }

    /// `name{label="value",...} value [timestamp]`, or nil.
    static func parseSample(_ line: Substring) -> Sample? {
        guard let parsed = parseLine(line) else { return nil }
        return Sample(name: parsed.name, labels: Dictionary(parsed.labels) { first, _ in first }, value: parsed.value)
    }

    /// A sample line's parts, labels in their order; nil for anything else, a label named
    /// twice, or anything after the value but an integer timestamp.
    static func parseLine(_ line: Substring) -> (name: String, labels: [(key: String, value: String)], value: Double, valueText: Substring)? {
        let line = line.drop { $0 == " " }
        guard let first = line.first, first != "#" else { return nil }
        var index = line.startIndex
        while index < line.endIndex, line[index] != "{", line[index] != " " { index = line.index(after: index) }
        let name = String(line[..<index])
        guard !name.isEmpty, index < line.endIndex else { return nil }
        var labels: [(key: String, value: String)] = []
        if line[index] == "{" {
            index = line.index(after: index)
            while true {
                while index < line.endIndex, line[index] == "," || line[index] == " " { index = line.index(after: index) }
                guard index < line.endIndex else { return nil }
                if line[index] == "}" { index = line.index(after: index); break }
                guard let equals = line[index...].firstIndex(of: "=") else { return nil }
                let key = String(line[index..<equals])
                guard !labels.contains(where: { $0.key == key }) else { return nil }
                index = line.index(after: equals)
                guard index < line.endIndex, line[index] == "\"" else { return nil }
                index = line.index(after: index)
                var value = ""
                while true {
                    guard index < line.endIndex else { return nil }
                    let character = line[index]
                    index = line.index(after: index)
                    if character == "\"" { break }
                    if character == "\\" {
                        guard index < line.endIndex else { return nil }
                        let escapedCharacter = line[index]
                        index = line.index(after: index)
                        value.append(escapedCharacter == "n" ? "\n" : escapedCharacter)
                    } else {
                        value.append(character)
                    }
                }
                labels.append((key, value))
            }
        }
        let fields = line[index...].split(separator: " ")
        guard let valueText = fields.first, let value = parseValue(valueText),
              fields.count == 1 || (fields.count == 2 && Int64(fields[1]) != nil) else { return nil }
        return (name, labels, value, valueText)
    }

    /// A value as Prometheus writes it: a decimal number, `+Inf`, `-Inf` or `NaN`. Swift's
    /// `Double` also reads forms Prometheus refuses (`0x10`, `nan(1)`, `inf`).
    static func parseValue(_ text: Substring) -> Double? {
        switch text {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default:
            let decimal = text.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || "+-.eE".unicodeScalars.contains($0) }
            return decimal ? Double(text) : nil
        }
    }
}
