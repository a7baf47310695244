/// The built-in HTTP/1.1 transport: one connection to a Unix socket or an http:// server,
/// kept alive between requests when the response allows it.
///
/// Not thread-safe, like ``HTTPClient`` which owns it.
final class NativeTransport {
    /// Where to connect.
    enum Target {
        /// A Unix socket path; requests carry `Host: localhost`.
        case unix(path: String)
        /// A TCP host and port from an http:// base URL.
        case tcp(HTTPBaseURL)
    }

    let target: Target
    private var connection: SocketConnection?

    init(target: Target) { self.target = target }

    /// The kept-alive connection, if any (tests look at reuse through the server instead).
    var hasConnection: Bool { connection != nil }

    /// Sends `request` and reads the response into `transfer`.
    ///
    /// A kept-alive connection the server has closed in the meantime is replaced: when the
    /// request fails on a reused connection before any byte of response arrived, it is sent
    /// once more on a new connection, and only that attempt's failure is reported.
    func perform(
        _ request: HTTPRequest, transfer: Transfer, connectTimeout: Duration, totalTimeout: Duration
    ) throws(TransportFailure) {
        let start = ContinuousClock.now
        let deadline = start + totalTimeout
        let connectDeadline = start + min(connectTimeout, totalTimeout)
        let head = requestHead(request)
        // A small body goes out with the head in one `send`; a large one is not copied.
        let inline = (request.body?.count ?? 0) <= 64 * 1024
        let message = inline ? head + (request.body ?? []) : head
        var attempt = 0
        while true {
            attempt += 1
            let socket: SocketConnection
            var reused = false
            if let existing = connection, existing.isIdleAndOpen {
                socket = existing
                reused = true
            } else {
                connection = nil
                socket = try connect(deadline: attempt == 1 ? connectDeadline : min(ContinuousClock.now + connectTimeout, deadline))
                connection = socket
            }
            socket.resetReceivedCount()
            do throws(TransportFailure) {
                do throws(TransportFailure) {
                    try Self.send(message, on: socket, deadline: deadline)
                    if !inline, let body = request.body { try Self.send(body, on: socket, deadline: deadline) }
                } catch where error.connectionDropped {
                    // The server may have answered early (e.g. 413 to a large body) and closed:
                    // what it said is the answer. If it said nothing, the send failure stands.
                    guard (try? readResponse(on: socket, method: request.method, transfer: transfer, deadline: deadline)) != nil
                    else { throw error }
                    connection = nil
                    return
                }
                let keepAlive = try readResponse(on: socket, method: request.method, transfer: transfer, deadline: deadline)
                if !keepAlive { connection = nil }
                return
            } catch {
                connection = nil
                if reused, attempt == 1, error.connectionDropped, socket.receivedCount == 0 { continue }
                throw error
            }
        }
    }

    private static func send(_ bytes: [UInt8], on socket: SocketConnection, deadline: ContinuousClock.Instant) throws(TransportFailure) {
        let failure: TransportFailure? = bytes.withUnsafeBytes { raw in
            do throws(TransportFailure) {
                try socket.writeAll(raw, deadline: deadline)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    private func connect(deadline: ContinuousClock.Instant) throws(TransportFailure) -> SocketConnection {
        switch target {
        case .unix(let path): return try SocketConnection.connect(unixPath: path, deadline: deadline)
        case .tcp(let url): return try SocketConnection.connect(host: url.host, port: url.port, deadline: deadline)
        }
    }

    /// The request line and header fields, up to and including the empty line.
    private func requestHead(_ request: HTTPRequest) -> [UInt8] {
        let host: String
        let prefix: String
        switch target {
        case .unix:
            host = "localhost"
            prefix = ""
        case .tcp(let url):
            host = url.authority
            prefix = url.pathPrefix
        }
        var head = "\(request.method.rawValue) \(prefix)\(request.path) HTTP/1.1\r\n"
        if request.headers["Host"] == nil { head += "Host: \(host)\r\n" }
        for field in request.headers {
            let name = field.name.lowercased()
            // Framing is ours: a caller's value could contradict the body sent.
            if name == "content-length" || name == "transfer-encoding" { continue }
            head += field.value.isEmpty ? "\(field.name):\r\n" : "\(field.name): \(field.value)\r\n"
        }
        let sendsBody = request.body != nil || request.method == .post || request.method == .put
        if sendsBody { head += "Content-Length: \(request.body?.count ?? 0)\r\n" }
        head += "\r\n"
        return Array(head.utf8)
    }

    /// How the body of a response is delimited.
    private enum Framing: Equatable {
        case none
        case length(Int)
        case chunked
        case untilClose
    }

    /// Reads one response (skipping interim 1xx responses).
    /// - Returns: Whether the connection may carry the next request.
    private func readResponse(
        on socket: SocketConnection, method: HTTPMethod, transfer: Transfer, deadline: ContinuousClock.Instant
    ) throws(TransportFailure) -> Bool {
        var minorVersion = 1
        var status = 0
        var headers = HTTPHeaders()
        repeat {
            var line: [UInt8] = []
            var emptyLines = 0
            repeat {  // a stray CRLF or two before the status line is tolerated
                guard let next = try socket.readLine(deadline: deadline) else {
                    throw TransportFailure(
                        kind: .transfer, code: 52, message: "the server closed the connection without answering",
                        connectionDropped: socket.receivedCount == 0)
                }
                line = next
                emptyLines += 1
            } while line.isEmpty && emptyLines <= 2
            (minorVersion, status) = try Self.parseStatusLine(line)
            headers = try Self.readHeaders(on: socket, deadline: deadline)
        } while (100..<200).contains(status) && status != 101
        guard status != 101 else { throw .malformed("the server switched protocols (HTTP 101), which is not supported") }
        transfer.status = status
        transfer.headers = headers

        let framing = try Self.framing(method: method, status: status, headers: headers)
        let connectionTokens = Self.tokens(headers, "Connection")
        var keepAlive = minorVersion >= 1 && !connectionTokens.contains("close") && framing != .untilClose
        if headers["Transfer-Encoding"] != nil && headers["Content-Length"] != nil { keepAlive = false }

        switch framing {
        case .none:
            break
        case .length(let length):
            guard try readBody(length, on: socket, transfer: transfer, deadline: deadline) else { return false }
        case .chunked:
            while true {
                guard let sizeLine = try socket.readLine(deadline: deadline) else {
                    throw TransportFailure(kind: .transfer, code: 18, message: "the connection closed in the chunked body")
                }
                let size = try Self.parseChunkSize(sizeLine)
                if size == 0 { break }
                guard try readBody(size, on: socket, transfer: transfer, deadline: deadline) else { return false }
                guard let end = try socket.readLine(deadline: deadline) else {
                    throw TransportFailure(kind: .transfer, code: 18, message: "the connection closed in the chunked body")
                }
                guard end.isEmpty else { throw .malformed("a chunk is longer than its size line says") }
            }
            // Trailer fields, up to the empty line; read and dropped.
            _ = try Self.readHeaders(on: socket, deadline: deadline)
        case .untilClose:
            while true {
                var proceed = true
                let count = try socket.readSome(limit: Int.max, deadline: deadline) { proceed = transfer.receiveBody($0) }
                if count == 0 || !proceed { break }
            }
        }
        return keepAlive && !transfer.endedByCallback
    }

    /// Reads exactly `length` body bytes into `transfer`; `false` when its callback ended it.
    private func readBody(
        _ length: Int, on socket: SocketConnection, transfer: Transfer, deadline: ContinuousClock.Instant
    ) throws(TransportFailure) -> Bool {
        var remaining = length
        while remaining > 0 {
            var proceed = true
            let count = try socket.readSome(limit: remaining, deadline: deadline) { proceed = transfer.receiveBody($0) }
            guard count > 0 else {
                throw TransportFailure(
                    kind: .transfer, code: 18,
                    message: "the connection closed \(remaining) bytes before the end of the body")
            }
            remaining -= count
            if !proceed { return false }
        }
        return true
    }

    /// `HTTP/1.x SSS reason` → (x, SSS).
    static func parseStatusLine(_ line: [UInt8]) throws(TransportFailure) -> (minorVersion: Int, status: Int) {
        let text = String(decoding: line, as: UTF8.self)
        let prefix = Array("HTTP/1.".utf8)
        guard line.count >= 12, Array(line[0..<7]) == prefix, (0x30...0x39).contains(line[7]), line[8] == 0x20,
            line[9...11].allSatisfy({ (0x30...0x39).contains($0) }), line.count == 12 || line[12] == 0x20
        else {
            throw .malformed("not an HTTP/1.x status line: '\(text.prefix(100))'")
        }
        let status = line[9...11].reduce(0) { $0 * 10 + Int($1 - 0x30) }
        return (Int(line[7] - 0x30), status)
    }

    /// Header (or trailer) lines up to the empty line; obsolete line folding is joined.
    static func readHeaders(on socket: SocketConnection, deadline: ContinuousClock.Instant) throws(TransportFailure) -> HTTPHeaders {
        var fields: [(name: String, value: String)] = []
        while true {
            guard let line = try socket.readLine(deadline: deadline) else {
                throw TransportFailure(kind: .transfer, code: 18, message: "the connection closed in the response headers")
            }
            if line.isEmpty { break }
            guard fields.count < 1000 else { throw .malformed("more than 1000 header fields") }
            if line[0] == 0x20 || line[0] == 0x09 {
                guard !fields.isEmpty else { throw .malformed("a continuation line before any header field") }
                fields[fields.count - 1].value += " " + trimmed(line[...])
                continue
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else {
                throw .malformed("not a header field: '\(String(decoding: line.prefix(100), as: UTF8.self))'")
            }
            fields.append((trimmed(line[..<colon]), trimmed(line[(colon + 1)...])))
        }
        var headers = HTTPHeaders()
        for field in fields { headers.add(name: field.name, value: field.value) }
        return headers
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> String {
        var slice = bytes
        while let first = slice.first, first == 0x20 || first == 0x09 { slice.removeFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 { slice.removeLast() }
        return String(decoding: slice, as: UTF8.self)
    }

    /// The comma-separated tokens of every field named `name`, lowercased.
    static func tokens(_ headers: HTTPHeaders, _ name: String) -> [String] {
        let lower = name.lowercased()
        return headers.filter { $0.name.lowercased() == lower }
            .flatMap { $0.value.split(separator: ",") }
            .map { String($0).lowercased().trimmingBlanks() }
    }

    private static func framing(method: HTTPMethod, status: Int, headers: HTTPHeaders) throws(TransportFailure) -> Framing {
        if method == .head || status == 204 || status == 304 || (100..<200).contains(status) { return .none }
        let codings = tokens(headers, "Transfer-Encoding")
        if !codings.isEmpty { return codings.last == "chunked" ? .chunked : .untilClose }
        let lengths = headers.filter { $0.name.lowercased() == "content-length" }.flatMap { $0.value.split(separator: ",") }
        guard let first = lengths.first else { return .untilClose }
        let text = String(first).trimmingBlanks()
        guard !text.isEmpty, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let length = Int(text),
            lengths.allSatisfy({ String($0).trimmingBlanks() == text })
        else {
            throw .malformed("invalid Content-Length '\(headers["Content-Length"] ?? "")'")
        }
        return .length(length)
    }

    /// `1a2b[;extension]` → 0x1a2b.
    static func parseChunkSize(_ line: [UInt8]) throws(TransportFailure) -> Int {
        let digits = line.prefix { $0 != UInt8(ascii: ";") }
        let text = String(decoding: digits, as: UTF8.self).trimmingBlanks()
        let isHex = text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x46).contains($0 & 0xDF) }
        guard !text.isEmpty, text.utf8.count <= 15, isHex, let size = Int(text, radix: 16) else {
            throw .malformed("invalid chunk size line '\(String(decoding: line.prefix(100), as: UTF8.self))'")
        }
        return size
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    func trimmingBlanks() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
