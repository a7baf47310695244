import Foundation
import HTTPClient
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// Bytes that differ at every position modulo 251, so a shifted or dropped piece is noticed.
private func pattern(_ count: Int, seed: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 31 &+ seed) % 251) }
}

@Suite("Built-in HTTP/1.1 client against a loopback server")
struct NativeHTTPTests {
    @Test func contentLengthBodyAndHeaders() throws {
        let server = try LoopbackServer { connection in
            while let request = connection.readRequest() {
                let host = request.header("Host") ?? "-"
                connection.respond(headers: ["X-Host: \(host)", "X-Multi: a", "X-Multi: b", "Retry-After: 7"], body: Array("hello".utf8))
            }
        }
        defer { server.stop() }
        let client = try HTTPClient(transport: .tcp(baseURL: server.baseURL))
        let response = try client.send(HTTPRequest(path: "/a?b=c"))
        #expect(response.status == 200)
        #expect(response.bodyText == "hello")
        #expect(response.headers["x-host"] == "127.0.0.1:\(server.port)")
        #expect(response.headers["Retry-After"] == "7")
        #expect(response.headers.filter { $0.name == "X-Multi" }.map(\.value) == ["a", "b"])
        #expect(server.requestLines == ["GET /a?b=c HTTP/1.1"])
    }

    @Test func requestLineHostHeadersAndBodyFraming() throws {
        let seen = Locked<[ReceivedRequest]>([])
        let server = try LoopbackServer { connection in
            while let request = connection.readRequest() {
                seen.mutate { $0.append(request) }
                connection.respond()
            }
        }
        defer { server.stop() }
        // A path prefix and trailing slashes in the base URL.
        let client = try HTTPClient(transport: .tcp(baseURL: server.baseURL + "/prefix//"))
        _ = try client.send(HTTPRequest(method: .post, path: "/write?db=x", headers: ["Content-Encoding": "gzip", "X-Empty": "", "Content-Length": "999"], body: [0x1F, 0x8B, 0, 1]))
        _ = try client.send(HTTPRequest(method: .post, path: "/start"))
        _ = try client.send(HTTPRequest(method: .delete, path: "/d"))
        _ = try client.send(HTTPRequest(path: "/h", headers: ["Host": "influx.example"]))
        let requests = seen.value
        #expect(requests.map(\.line) == ["POST /prefix/write?db=x HTTP/1.1", "POST /prefix/start HTTP/1.1", "DELETE /prefix/d HTTP/1.1", "GET /prefix/h HTTP/1.1"])
        #expect(requests[0].header("Host") == "127.0.0.1:\(server.port)")
        #expect(requests[0].header("Content-Encoding") == "gzip")
        #expect(requests[0].header("X-Empty") == "")
        #expect(requests[0].headers.filter { $0.name.lowercased() == "content-length" }.map(\.value) == ["4"])
        #expect(requests[0].body == [0x1F, 0x8B, 0, 1])
        #expect(requests[1].header("Content-Length") == "0")
        #expect(requests[2].header("Content-Length") == nil)
        #expect(requests[3].headers.filter { $0.name == "Host" }.map(\.value) == ["influx.example"])
        #expect(requests.allSatisfy { $0.header("Expect") == nil && $0.header("Transfer-Encoding") == nil })
        #expect(server.connectionCount == 1)
    }

    @Test func chunkedBodyWithExtensionsAndTrailersKeepsTheConnection() throws {
        let server = try LoopbackServer { connection in
            while connection.readRequest() != nil {
                connection.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n")
                connection.writeChunk(Array("first ".utf8))
                connection.write("7;name=value\r\nsecond \r\n")
                connection.writeChunk(Array(repeating: UInt8(ascii: "z"), count: 70_000))
                connection.write("0\r\nX-Sum: 42\r\nX-Other: y\r\n\r\n")
            }
        }
        defer { server.stop() }
        let client = try HTTPClient(transport: .tcp(baseURL: server.baseURL))
        for _ in 0..<3 {
            let response = try client.send(HTTPRequest(path: "/c"))
            #expect(response.status == 200)
            #expect(response.body.count == 6 + 7 + 70_000)
            #expect(text(Array(response.body.prefix(13))) == "first second ")
            #expect(response.body.dropFirst(13).allSatisfy { $0 == UInt8(ascii: "z") })
        }
        #expect(server.connectionCount == 1)  // the trailers were consumed: the connection stayed usable
    }

    @Test func bodyUntilCloseThenANewConnection() throws {
        let server = try LoopbackServer { connection in
            guard connection.readRequest() != nil else { return }
            connection.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nno length, ")
            usleep(20_000)
            connection.write("ends at close")
        }
        defer { server.stop() }
        let client = try HTTPClient(transport: .tcp(baseURL: server.baseURL))
        #expect(try client.send(HTTPRequest(path: "/1")).bodyText == "no length, ends at close")
        #expect(try client.send(HTTPRequest(path: "/2")).bodyText == "no length, ends at close")
        #expect(server.connectionCount == 2)
    }

    @Test func keepAliveReusesOneConnection() throws {
        let server = try LoopbackServer { connection in
            while let request = connection.readRequest() {
                connection.respond(body: Array("\(request.line) \(request.body.count)".utf8))
            }
        }
        defer { server.stop() }
        let client = try HTTPClient(transport: .tcp(baseURL: server.baseURL))
        for index in 0..<20 {
            let body = index % 2 == 0 ? nil : Array(repeating: UInt8(index), count: index * 100)
            let response = try client.send(HTTPRequest(method: body == nil ? .get : .post, path: "/r\(index)", body: body))
            #expect(response.bodyText == "\(body == nil ? "GET" : "POST") /r\(index) HTTP/1.1 \(body?.count ?? 0)")
        }
        #expect(server.connectionCount == 1)
        #expect(server.requestLines.count == 20)
    }

    @Test func connectionCloseAndHTTP10MeanReconnect() throws {
        let server = try LoopbackServer { connection in
            guard let request = connection.readRequest() else { return }
            if request.line.hasPrefix("GET /close") {
                connection.respond(headers: ["Connection: close"], body: Array("c".utf8))
                // The server does not close right away: the client must not wait for it.
                _ = connection.waitForClientClose(seconds: 2)
            } else {
                connection.write("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi")
                _ = connection.waitForClientClose(seconds: 2)
            }
        }
        defer { server.stop() }
        let client = try HTTPClient(transport: .tcp(baseURL: server.baseURL))
        #expect(try client.send(HTTPRequest(path: "/close")).bodyText == "c")
        #expect(try client.send(HTTPRequest(path: "/close")).bodyText == "c")
        #expect(try client.send(HTTPRequest(path: "/old")).bodyText == "hi")
        #expect(try client.send(HTTPRequest(path: "/old")).bodyText == "hi")
        #expect(server.connectionCount == 4)
    }

    @Test func idleConnectionClosedByTheServerIsReplaced() throws {
        let server = try LoopbackServer { connection in
            guard connection.readRequest() != nil else { return }
            connection.respond(body: Array("ok".utf8))  // keep-alive response, then an idle timeout
            usleep(50_000)
            connection.close()
        }
        defer { server.stop() }
        let client = try HTTPClient(transport: .tcp(baseURL: server.baseURL))
        #expect(try client.send(HTTPRequest(path: "/1")).bodyText == "ok")
        usleep(300_000)
        #expect(try client.send(HTTPRequest(path: "/2")).bodyText == "ok")
        #expect(server.connectionCount == 2)
    }

    @Test func requestLostOnAStaleConnectionIsSentOnceMore() throws {
        // The first connection answers one request, then reads the next one and closes
        // without a byte of answer (a keep-alive race); the client resends on a new connection.
        let dropped = Locked(false)
        let server = try LoopbackServer { connection in
            guard connection.readRequest() != nil else { return }
            connection.respond(body: Array("first".utf8))
            while connection.readRequest() != nil {
                if dropped.mutate({ done -> Bool in
                    defer { done = true }
                    return !done
                }) {
                    return  // closed unanswered
                }
                connection.respond(body: Array("again".utf8))
            }
        }
        defer { server.stop() }
        let client = try HTTPClient(transport: .tcp(baseURL: server.baseURL))
        #expect(try client.send(HTTPRequest(path: "/1")).bodyText == "first")
        let response = try client.send(HTTPRequest(method: .post, path: "/2", body: Array("x".utf8)))
        #expect(response.bodyText == "first")  // the new connection's first answer
        #expect(server.connectionCount == 2)
        #expect(server.requestLines == ["GET /1 HTTP/1.1", "POST /2 HTTP/1.1", "POST /2 HTTP/1.1"])
    }

    @Test func aRequestIsResentAtMostOnce() throws {
        let server = try LoopbackServer { connection in
            guard let request = connection.readRequest() else { return }
            if request.line.hasPrefix("GET /ok") {
                connection.respond(body: Array("ok".utf8))
                _ = connection.readRequest()  // then drop the next request unanswered
            }
            // Every other connection: closed unanswered.
        }
        defer { server.stop() }
        let client = try HTTPClient(transport: .tcp(baseURL: server.baseURL))
        #expect(try client.send(HTTPRequest(path: "/ok")).bodyText == "ok")
        let error = #expect(throws: HTTPClientError.self) { try client.send(HTTPRequest(path: "/lost")) }
        #expect(error?.kind == .transfer)
        #expect(error?.curlCode == 52)
        #expect(error?.description == "HTTP request GET /lost to \(server.baseURL) failed: the server closed the connection without answering")
        #expect(server.connectionCount == 2)  // the reused one and exactly one new one
        // On a fresh connection the same failure is not retried.
        let fresh = try HTTPClient(transport: .tcp(baseURL: server.baseURL))
        #expect(throws: HTTPClientError.self) { try fresh.send(HTTPRequest(path: "/lost")) }
        #expect(server.connectionCount == 3)
    }

    @Test func headAnd204And304HaveNoBody() throws {
        let server = try LoopbackServer { connection in
            while let request = connection.readRequest() {
                switch request.line {
                case "HEAD /h HTTP/1.1": connection.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
                case "DELETE /n HTTP/1.1": connection.write("HTTP/1.1 204 No Content\r\n\r\n")
                case "GET /m HTTP/1.1": connection.write("HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n")
                default: connection.respond(body: Array("after".utf8))
                }
            }
        }
        defer { server.stop() }
        let client = try HTTPClient(transport: .tcp(baseURL: server.baseURL), timeouts: HTTPTimeouts(total: .seconds(5)))
        let head = try client.send(HTTPRequest(method: .head, path: "/h"))
        #expect(head.status == 200 && head.headers["Content-Length"] == "1000" && head.body.isEmpty)
        let noContent = try client.send(HTTPRequest(method: .delete, path: "/n"))
        #expect(noContent.status == 204 && noContent.body.isEmpty)
        let notModified = try client.send(HTTPRequest(path: "/m"))
        #expect(notModified.status == 304 && notModified.body.isEmpty)
        #expect(try client.send(HTTPRequest(path: "/x")).bodyText == "after")
        #expect(server.connectionCount == 1)
    }

    @Test func interim100ContinueIsSkipped() throws {
        let server = try LoopbackServer { connection in
            guard connection.readRequest() != nil else { return }
            connection.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
        }
        defer { server.stop() }
        let client = try HTTPClient(transport: .tcp(baseURL: server.baseURL))
        let response = try client.send(HTTPRequest(method: .post, path: "/p", body: [1]))
        #expect(response.status == 201 && response.bodyText == "ok")
    }

    @Test func refusedConnectionIsAConnectError() throws {
        let port = closedLoopbackPort()
        let client = try HTTPClient(transport: .tcp(baseURL: "http://127.0.0.1:\(port)"))
        let error = #expect(throws: HTTPClientError.self) { try client.send(HTTPRequest(path: "/ping")) }
        #expect(error?.kind == .connect)
        #expect(error?.curlCode == 7)
        #expect(error?.isFromLibcurl == false)
        #expect(error?.description == "cannot connect to http://127.0.0.1:\(port): connect to 127.0.0.1 port \(port): Connection refused")
    }

    @Test func unresolvableHostIsAConnectError() throws {
        let client = try HTTPClient(transport: .tcp(baseURL: "http://no-such-host.invalid:8086"))
        let error = #expect(throws: HTTPClientError.self) { try client.send(HTTPRequest(path: "/ping")) }
        #expect(error?.kind == .connect)
        #expect(error?.curlCode == 6)
        #expect(error?.description.hasPrefix("cannot connect to http://no-such-host.invalid:8086: cannot resolve host 'no-such-host.invalid'") == true)
    }

    @Test func badBaseURLsAreInvalidRequests() throws {
        for url in ["ftp://127.0.0.1", "http://", "http://user:pw@127.0.0.1", "http://127.0.0.1:99999", "http://::1:80", "http://[::1"] {
            let client = try HTTPClient(transport: .tcp(baseURL: url))
            let error = #expect(throws: HTTPClientError.self) { try client.send(HTTPRequest(path: "/ping")) }
            #expect(error?.kind == .invalidRequest, "\(url)")
            #expect(error?.description.contains(url) == true, "\(url)")
        }
    }

    @Test func connectTimeoutOnAFullBacklog() throws {
        // backlog 0 admits one queued connection; the listener never accepts, so once the
        // queue is full further SYNs are dropped and connect() hangs until our timeout.
        let server = try LoopbackServer(backlog: 0, accepting: false)
        defer { server.closeListener() }
        let start = ContinuousClock.now
        let error = try #require(try Self.firstConnectTimeout(
            .tcp(baseURL: server.baseURL), timeouts: HTTPTimeouts(connect: .milliseconds(300), total: .seconds(10)),
            requestTimeout: .milliseconds(400)))
        #expect(error.kind == .timeout)
        #expect(error.curlCode == 28)
        #expect(error.description.hasPrefix("timed out talking to \(server.baseURL) (GET /): connect to 127.0.0.1 port \(server.port)"))
        #expect(error.description.hasSuffix("(connect timeout 300 ms)"))
        #expect(ContinuousClock.now - start < .seconds(4))
    }

    /// Opens clients to a listener that never accepts until a connect
    /// times out (the first one or two connect into the backlog, then time
    /// out waiting for an answer); the clients stay open until it returns.
    private static func firstConnectTimeout(
        _ transport: HTTPTransport, timeouts: HTTPTimeouts, requestTimeout: Duration
    ) throws -> HTTPClientError? {
        var clients: [HTTPClient] = []
        defer { clients.removeAll() }
        for _ in 0..<4 {
            let client = try HTTPClient(transport: transport, timeouts: timeouts)
            clients.append(client)
            do {
                _ = try client.send(HTTPRequest(path: "/", timeout: requestTimeout))
            } catch where error.message.hasPrefix("connect") {
                return error
            } catch {
                continue
            }
        }
        return nil
    }

    @Test func connectTimeoutOnAFullUnixSocketBacklog() throws {
        let server = try LoopbackServer(.unix, backlog: 0, accepting: false)
        defer { server.closeListener() }
        let error = try #require(try Self.firstConnectTimeout(
            .unixSocket(path: server.socketPath), timeouts: HTTPTimeouts(connect: .milliseconds(200), total: .seconds(10)),
            requestTimeout: .milliseconds(300)))
        #expect(error.kind == .timeout && error.curlCode == 28)
        #expect(error.description.contains("(connect timeout 200 ms)"))
    }

    @Test func totalTimeoutWhenTheServerStalls() throws {
        let server = try LoopbackServer { connection in
            guard let request = connection.readRequest() else { return }
            if request.line.contains("/head") {
                connection.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")  // then stalls mid-body
            }
            _ = connection.waitForClientClose(seconds: 5)
        }
        defer { server.stop() }
        let client = try HTTPClient(transport: .tcp(baseURL: server.baseURL), timeouts: HTTPTimeouts(total: .milliseconds(250)))
        for path in ["/nothing", "/head"] {
            let start = ContinuousClock.now
            let error = #expect(throws: HTTPClientError.self) { try client.send(HTTPRequest(path: path)) }
            let elapsed = ContinuousClock.now - start
            #expect(error?.kind == .timeout)
            #expect(error?.curlCode == 28)
            #expect(error?.description == "timed out talking to \(server.baseURL) (GET \(path)): waiting for the response (total timeout 250 ms)")
            #expect(elapsed >= .milliseconds(240) && elapsed < .seconds(2))
        }
        // A per-request timeout overrides the client's.
        let start = ContinuousClock.now
        #expect(throws: HTTPClientError.self) { try client.send(HTTPRequest(path: "/nothing", timeout: .milliseconds(600))) }
        #expect(ContinuousClock.now - start >= .milliseconds(590))
    }

    @Test func streamLinesSplitAcrossReads() throws {
        let server = try LoopbackServer { connection in
            while let request = connection.readRequest() {
                let pieces = ["{\"a\":", "1}\r", "\n{\"b\":2}\n", "\n", "{\"c\"", ":3}\r\n{\"d\":4}"]
                if request.line.contains("chunked") {
                    connection.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                    for piece in pieces {
                        connection.writeChunk(Array(piece.utf8))
                        usleep(15_000)
                    }
                    connection.write("0\r\n\r\n")
                } else {
                    let total = pieces.joined().utf8.count
                    connection.write("HTTP/1.1 200 OK\r\nContent-Length: \(total)\r\n\r\n")
                    for piece in pieces {
                        connection.write(piece)
                        usleep(15_000)
                    }
                }
            }
        }
        defer { server.stop() }
        let client = try HTTPClient(transport: .tcp(baseURL: server.baseURL))
        for path in ["/chunked", "/length"] {
            var lines: [String] = []
            var chunks = 0
            let response = try client.streamLines(HTTPRequest(path: path)) { line in
                lines.append(text(line))
                return .continue
            }
            _ = try client.stream(HTTPRequest(path: path)) { _ in
                chunks += 1
                return .continue
            }
            #expect(response.status == 200 && response.body.isEmpty)
            #expect(lines == ["{\"a\":1}", "{\"b\":2}", "", "{\"c\":3}", "{\"d\":4}"])
            #expect(chunks >= 3)  // really delivered in pieces as they came
        }
        #expect(server.connectionCount == 1)
    }

    @Test func stoppingAStreamClosesTheConnection() throws {
        let noticed = Locked(false)
        let server = try LoopbackServer { connection in
            guard let request = connection.readRequest() else { return }
            if request.line.contains("/events") {
                connection.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                for index in 0..<500 {  // an endless event stream, as far as the client knows
                    guard connection.writeChunk(Array("event \(index)\n".utf8)) else {
                        noticed.mutate { $0 = true }
                        return
                    }
                    usleep(10_000)
                }
            } else {
                connection.respond(body: Array("fine".utf8))
            }
        }
        defer { server.stop() }
        let client = try HTTPClient(transport: .tcp(baseURL: server.baseURL))
        var lines: [String] = []
        let start = ContinuousClock.now
        let response = try client.streamLines(HTTPRequest(path: "/events")) { line in
            lines.append(text(line))
            return lines.count == 3 ? .stop : .continue
        }
        #expect(response.status == 200)
        #expect(lines == ["event 0", "event 1", "event 2"])
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(try client.send(HTTPRequest(path: "/next")).bodyText == "fine")
        #expect(server.connectionCount == 2)
        let deadline = ContinuousClock.now + .seconds(3)
        while !noticed.value && ContinuousClock.now < deadline { usleep(10_000) }
        #expect(noticed.value)  // the server saw the connection go away
    }

    @Test func aThrowingCallbackEndsTheStreamAndTheConnection() throws {
        struct Enough: Error {}
        let server = try LoopbackServer { connection in
            while let request = connection.readRequest() {
                if request.line.contains("/s") {
                    connection.respond(body: Array("a\nb\nc\n".utf8))
                } else {
                    connection.respond(body: Array("fine".utf8))
                }
            }
        }
        defer { server.stop() }
        let client = try HTTPClient(transport: .tcp(baseURL: server.baseURL))
        #expect(throws: Enough.self) { _ = try client.streamLines(HTTPRequest(path: "/s")) { _ in throw Enough() } }
        #expect(try client.send(HTTPRequest(path: "/t")).bodyText == "fine")
        #expect(server.connectionCount == 2)
    }

    @Test func largeBodiesBothWays() throws {
        let size = 8 << 20
        let expected = pattern(size, seed: 1)
        let reply = pattern(size + 3, seed: 2)
        let server = try LoopbackServer { connection in
            while let request = connection.readRequest() {
                guard request.body == expected else {
                    connection.respond(status: "400 Bad Request", body: Array("body differs (\(request.body.count) bytes)".utf8))
                    continue
                }
                if request.line.contains("chunked") {
                    connection.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                    var offset = 0
                    while offset < reply.count {
                        let piece = min(100_003, reply.count - offset)
                        connection.writeChunk(Array(reply[offset..<(offset + piece)]))
                        offset += piece
                    }
                    connection.write("0\r\n\r\n")
                } else {
                    connection.respond(body: reply)
                }
            }
        }
        defer { server.stop() }
        let client = try HTTPClient(transport: .tcp(baseURL: server.baseURL))
        for path in ["/length", "/chunked"] {
            let response = try client.send(HTTPRequest(method: .put, path: path, body: expected))
            #expect(response.status == 200, "\(response.bodyText.prefix(200))")
            #expect(response.body == reply)
        }
        #expect(server.connectionCount == 1)
    }

    @Test func anEarlyAnswerToALargeBodyIsTheResponse() throws {
        // The server refuses the body from its head alone and closes without reading it, as a
        // server with a body size limit may; the client reports the 413, not a broken pipe.
        let server = try LoopbackServer { connection in
            var head: [UInt8] = []
            var byte: UInt8 = 0
            while !head.suffix(4).elementsEqual([13, 10, 13, 10]), read(connection.fd, &byte, 1) == 1 { head.append(byte) }
            connection.write("HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\ntoo large")
            shutdown(connection.fd, Int32(SHUT_WR))
            usleep(100_000)
        }
        defer { server.stop() }
        let client = try HTTPClient(transport: .tcp(baseURL: server.baseURL), timeouts: HTTPTimeouts(total: .seconds(10)))
        let response = try client.send(HTTPRequest(method: .post, path: "/write", body: pattern(16 << 20, seed: 3)))
        #expect(response.status == 413)
        #expect(response.bodyText == "too large")
    }

    @Test func malformedAndTruncatedResponsesAreTransferErrors() throws {
        let server = try LoopbackServer { connection in
            guard let request = connection.readRequest() else { return }
            switch request.line {
            case "GET /garbage HTTP/1.1": connection.write("SMTP ready\r\n\r\n")
            case "GET /short HTTP/1.1": connection.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
            case "GET /badlength HTTP/1.1": connection.write("HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n")
            default: connection.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
            }
        }
        defer { server.stop() }
        let client = try HTTPClient(transport: .tcp(baseURL: server.baseURL))
        let expectations: [(String, Int32, String)] = [
            ("/garbage", 8, "not an HTTP/1.x status line: 'SMTP ready'"),
            ("/short", 18, "the connection closed 91 bytes before the end of the body"),
            ("/badlength", 8, "invalid Content-Length '12x'"),
            ("/badchunk", 8, "invalid chunk size line 'zz'"),
        ]
        for (path, code, message) in expectations {
            let error = #expect(throws: HTTPClientError.self) { try client.send(HTTPRequest(path: path)) }
            #expect(error?.kind == .transfer, "\(path)")
            #expect(error?.curlCode == code, "\(path)")
            #expect(error?.message == message, "\(path)")
        }
    }

    @Test func unixSocketTransport() throws {
        let server = try LoopbackServer(.unix) { connection in
            while let request = connection.readRequest() {
                connection.respond(headers: ["Api-Version: 1.41"], body: Array("\(request.header("Host") ?? "-") \(request.body.count)".utf8))
            }
        }
        defer { server.stop() }
        let client = try HTTPClient(transport: .unixSocket(path: server.socketPath))
        let first = try client.send(HTTPRequest(path: "/_ping"))
        #expect(first.status == 200 && first.bodyText == "localhost 0" && first.headers["api-version"] == "1.41")
        let big = try client.send(HTTPRequest(method: .post, path: "/images/load", body: pattern(3 << 20, seed: 5)))
        #expect(big.bodyText == "localhost \(3 << 20)")
        #expect(server.connectionCount == 1)
        #expect(server.requestLines == ["GET /_ping HTTP/1.1", "POST /images/load HTTP/1.1"])
    }

    @Test(.enabled(if: ipv6LoopbackWorks(), "::1 is not available on this host"))
    func ipv6Loopback() throws {
        let server = try LoopbackServer(.ipv6) { connection in
            while let request = connection.readRequest() {
                connection.respond(body: Array((request.header("Host") ?? "-").utf8))
            }
        }
        defer { server.stop() }
        let client = try HTTPClient(transport: .tcp(baseURL: server.baseURL))
        #expect(try client.send(HTTPRequest(path: "/")).bodyText == "[::1]:\(server.port)")
    }
}

/// Whether a socket can bind ::1.
func ipv6LoopbackWorks() -> Bool {
    (try? LoopbackServer(.ipv6, accepting: false))
        .map { server in
            server.closeListener()
            return true
        } ?? false
}
