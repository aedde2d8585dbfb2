@testable import ChatMonitoring
import NIOHTTP1
import Testing

@Suite struct EndpointResponseTests {
    private func answer(_ method: HTTPMethod, _ uri: String, problems: [String] = []) -> EndpointResponse {
        EndpointResponse.answering(method, uri, metricsPage: { "chat_texts_stored_total{process=\"storage-0\"} 3\n" },
                                   healthProblems: { problems })
    }

    @Test func metricsIsThePageInPrometheusTextFormat() {
        let response = answer(.GET, "/metrics")
        #expect(response.status == .ok)
        #expect(response.contentType == "text/plain; version=0.0.4; charset=utf-8")
        #expect(response.body == "chat_texts_stored_total{process=\"storage-0\"} 3\n")
        #expect(answer(.GET, "/metrics?name[]=up").body == response.body)
    }

    @Test func healthzIsOkOrOneLinePerProblem() {
        #expect(answer(.GET, "/healthz") == EndpointResponse(status: .ok, contentType: EndpointResponse.textContentType, body: "ok\n", allow: nil))
        let unhealthy = answer(.GET, "/healthz", problems: ["storage-0 backing off", "router silent for 4.2 s"])
        #expect(unhealthy.status == .serviceUnavailable)
        #expect(unhealthy.body == "storage-0 backing off\nrouter silent for 4.2 s\n")
    }

    @Test func onlyGetAndOnlyTheTwoPaths() {
        #expect(answer(.GET, "/").status == .notFound)
        #expect(answer(.GET, "/metrics/").status == .notFound)
        #expect(answer(.GET, "http://example.com/metrics").status == .notFound)
        let posted = answer(.POST, "/metrics")
        #expect(posted.status == .methodNotAllowed)
        #expect(posted.allow == "GET")
        #expect(answer(.HEAD, "/healthz").status == .methodNotAllowed)
        #expect(answer(.DELETE, "/nothing").status == .notFound)
    }

    @Test func healthIsReadOnlyForHealthz() {
        var read = false
        _ = EndpointResponse.answering(.GET, "/metrics", metricsPage: { "" }, healthProblems: { read = true; return [] })
        #expect(!read)
    }
}
