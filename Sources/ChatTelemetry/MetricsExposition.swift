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
                    guard words.count >= 3, words[1] == "HELP" || words[1] == "TYPE", isMetricName(words[2]) else { continue }
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

    /// `line` with `process="<process>"` first among its labels, or nil when it is no sample
    /// Prometheus would take: a report comes from whoever reaches the telemetry endpoint, and
    /// one bad line (a name with a space, a second `process` label) fails the whole scrape.
    static func labelling(_ line: Substring, process: String) -> String? {
        let line = line.drop { $0 == " " }
        guard let sample = parseSample(line), isMetricName(sample.name),
              sample.labels.keys.allSatisfy({ isLabelName($0) && $0 != "process" }) else { return nil }
        let label = "process=\"\(escaped(process))\""
        if let brace = line.firstIndex(of: "{"), line[..<brace].allSatisfy({ $0 != " " }) {
            let rest = line[line.index(after: brace)...]
            return "\(line[..<brace]){\(label)\(rest.hasPrefix("}") ? "" : ",")\(rest)"
        }
        guard let space = line.firstIndex(of: " ") else { return nil }
        return "\(line[..<space]){\(label)}\(line[space...])"
    }

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
        let line = line.drop { $0 == " " }
        guard let first = line.first, first != "#" else { return nil }
        var index = line.startIndex
        while index < line.endIndex, line[index] != "{", line[index] != " " { index = line.index(after: index) }
        let name = String(line[..<index])
        guard !name.isEmpty, index < line.endIndex else { return nil }
        var labels: [String: String] = [:]
        if line[index] == "{" {
            index = line.index(after: index)
            while true {
                while index < line.endIndex, line[index] == "," || line[index] == " " { index = line.index(after: index) }
                guard index < line.endIndex else { return nil }
                if line[index] == "}" { index = line.index(after: index); break }
                guard let equals = line[index...].firstIndex(of: "=") else { return nil }
                let key = String(line[index..<equals])
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
                labels[key] = value
            }
        }
        let fields = line[index...].split(separator: " ")
        guard let valueText = fields.first, let value = parseValue(valueText) else { return nil }
        return Sample(name: name, labels: labels, value: value)
    }

    static func parseValue(_ text: Substring) -> Double? {
        switch text {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default: return Double(text)
        }
    }
}
