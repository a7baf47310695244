import Foundation
import HTTPClient
import Testing

@Suite("HTTPClient over a Unix socket")
struct HTTPClientTests {
    @Test func missingSocketIsAConnectError() throws {
        let client = try HTTPClient(transport: .unixSocket(path: "/nonexistent/rdt4nn.sock"))
        let error = #expect(throws: HTTPClientError.self) { try client.send(HTTPRequest(path: "/_ping")) }
        #expect(error?.kind == .connect)
        #expect(error?.curlCode == 7)
        #expect(error?.description.hasPrefix("cannot connect to /nonexistent/rdt4nn.sock: ") == true)
    }

    @Test func invalidRequestsAreRejectedBeforeSending() throws {
        let client = try HTTPClient(transport: .unixSocket(path: "/nonexistent/rdt4nn.sock"))
        let noSlash = #expect(throws: HTTPClientError.self) { try client.send(HTTPRequest(path: "_ping")) }
        #expect(noSlash?.kind == .invalidRequest)
        let injected = #expect(throws: HTTPClientError.self) {
            try client.send(HTTPRequest(path: "/x", headers: ["X-Evil": "a\r\nHost: b"]))
        }
        #expect(injected?.kind == .invalidRequest)
    }

    @Test func sendReturnsStatusHeadersAndBodyAndReusesTheClient() throws {
        let server = try ScriptedUnixServer { requestLine, _ in
            let body = requestLine.hasPrefix("POST") ? "posted" : "hello"
            return [Array("HTTP/1.1 200 OK\r\nContent-Length: \(body.count)\r\nX-Test: yes\r\nConnection: close\r\n\r\n\(body)".utf8)]
        }
        defer { server.stop() }
        let client = try HTTPClient(transport: .unixSocket(path: server.socketPath))
        let first = try client.send(HTTPRequest(path: "/a?b=c"))
        #expect(first.status == 200)
        #expect(first.headers["x-test"] == "yes")
        #expect(first.bodyText == "hello")
        let second = try client.send(HTTPRequest(method: .post, path: "/p", body: Array("{}".utf8)))
        #expect(second.bodyText == "posted")
        let third = try client.send(HTTPRequest(method: .delete, path: "/d"))
        #expect(third.status == 200)
        #expect(server.requestLines == ["GET /a?b=c HTTP/1.1", "POST /p HTTP/1.1", "DELETE /d HTTP/1.1"])
    }

    @Test func streamLinesReassemblesLinesAcrossChunks() throws {
        let server = try ScriptedUnixServer { _, _ in
            [
                Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".utf8),
                chunk("first\r\nsec"), chunk("ond\n"), chunk("\nthird"), Array("0\r\n\r\n".utf8),
            ]
        }
        defer { server.stop() }
        let client = try HTTPClient(transport: .unixSocket(path: server.socketPath))
        var lines: [String] = []
        let response = try client.streamLines(HTTPRequest(path: "/s")) { line in
            lines.append(String(decoding: line, as: UTF8.self))
            return .continue
        }
        #expect(response.status == 200)
        #expect(response.body.isEmpty)
        #expect(lines == ["first", "second", "", "third"])
    }

    @Test func streamStopsWhenTheCallbackSaysSo() throws {
        let server = try ScriptedUnixServer { _, _ in
            [Array("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\none\ntwo\nthree\n".utf8)]
        }
        defer { server.stop() }
        let client = try HTTPClient(transport: .unixSocket(path: server.socketPath))
        var lines: [String] = []
        _ = try client.streamLines(HTTPRequest(path: "/s")) { line in
            lines.append(String(decoding: line, as: UTF8.self))
            return lines.count == 2 ? .stop : .continue
        }
        #expect(lines == ["one", "two"])
    }

    @Test func errorStatusBodyIsReturnedNotStreamed() throws {
        let server = try ScriptedUnixServer { _, _ in
            [Array("HTTP/1.1 404 Not Found\r\nContent-Length: 21\r\nConnection: close\r\n\r\n{\"message\":\"missing\"}".utf8)]
        }
        defer { server.stop() }
        let client = try HTTPClient(transport: .unixSocket(path: server.socketPath))
        var called = false
        let response = try client.streamLines(HTTPRequest(path: "/s")) { _ in
            called = true
            return .continue
        }
        #expect(!called)
        #expect(response.status == 404)
        #expect(response.bodyText == "{\"message\":\"missing\"}")
    }

    @Test func callbackErrorsPropagateUnchanged() throws {
        struct Boom: Error {}
        let server = try ScriptedUnixServer { _, _ in
            [Array("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nline\n".utf8)]
        }
        defer { server.stop() }
        let client = try HTTPClient(transport: .unixSocket(path: server.socketPath))
        #expect(throws: Boom.self) {
            _ = try client.streamLines(HTTPRequest(path: "/s")) { _ in throw Boom() }
        }
    }

    @Test func totalTimeoutIsEnforced() throws {
        let server = try ScriptedUnixServer { _, _ in
            usleep(1_500_000)
            return []
        }
        defer { server.stop() }
        let client = try HTTPClient(transport: .unixSocket(path: server.socketPath))
        let error = #expect(throws: HTTPClientError.self) {
            try client.send(HTTPRequest(path: "/slow", timeout: .milliseconds(200)))
        }
        #expect(error?.kind == .timeout)
        #expect(error?.curlCode == 28)
    }

    @Test func lineSplitterKeepsPartialLines() {
        var splitter = HTTPLineSplitter()
        #expect(splitter.feed(Array("a\r".utf8)) == [])
        #expect(splitter.feed(Array("\nb".utf8)) == [Array("a".utf8)])
        #expect(splitter.finish() == Array("b".utf8))
        #expect(splitter.finish() == nil)
    }
}
