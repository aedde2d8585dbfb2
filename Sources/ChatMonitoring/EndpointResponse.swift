import NIOHTTP1

/// What the metrics endpoint answers a request: decided from its method and path alone, with
/// the page and the health read only for the path that shows them.
struct EndpointResponse: Equatable {
    static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"
    static let textContentType = "text/plain; charset=utf-8"

    let status: HTTPResponseStatus
    let contentType: String
    let body: String
    /// `Allow`, for a method other than GET.
    let allow: String?

    static func answering(_ method: HTTPMethod, _ uri: String, metricsPage: () -> String,
                          healthProblems: () -> [String]) -> EndpointResponse {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        guard path == "/metrics" || path == "/healthz" else {
            return EndpointResponse(status: .notFound, contentType: textContentType, body: "not found; try /metrics or /healthz\n", allow: nil)
        }
        guard method == .GET else {
            return EndpointResponse(status: .methodNotAllowed, contentType: textContentType, body: "only GET\n", allow: "GET")
        }
        if path == "/metrics" {
            return EndpointResponse(status: .ok, contentType: metricsContentType, body: metricsPage(), allow: nil)
        }
        let problems = healthProblems()
        return problems.isEmpty
            ? EndpointResponse(status: .ok, contentType: textContentType, body: "ok\n", allow: nil)
            : EndpointResponse(status: .serviceUnavailable, contentType: textContentType,
                               body: problems.map { $0 + "\n" }.joined(), allow: nil)
    }
}
