/// A small blocking HTTP/1.1 client for Unix-socket (Docker) and TCP (InfluxDB) servers.
///
/// Unix sockets and http:// URLs use a built-in HTTP/1.1 implementation on POSIX sockets;
/// https:// goes through libcurl, which is loaded with `dlopen` when the first https://
/// client is made (rdt4nn does not link libcurl, so plain-HTTP runs never map it).
///
/// One client owns one connection (for https://, one libcurl easy handle), reused for every
/// request while the server keeps it alive. A request that fails on a reused connection before
/// any byte of response arrived (the server closed the idle connection) is sent once more on a
/// new connection.
///
/// ## Thread safety
/// A client is **not** `Sendable`, deliberately: its connection must never be used by two
/// threads at once, and every call blocks its thread until the response is complete (a Docker
/// `wait` or an event stream can take minutes). A lock inside the client would only hide that
/// by queueing callers behind one connection. Instead each user owns a client (they are cheap)
/// or checks one out of a pool, and Swift 6's region checking stops a client from being shared
/// by concurrent tasks. A client may move between threads as long as one thread uses it at a time.
///
/// ## Timeouts
/// Every request has a finite connect and total timeout (``HTTPTimeouts``); a request may
/// override the total with ``HTTPRequest/timeout``.
public final class HTTPClient {
    /// Where requests go.
    public let transport: HTTPTransport
    /// The default timeouts.
    public let timeouts: HTTPTimeouts

    private let engine: Engine

    /// What carries the requests.
    private enum Engine {
        /// Unix socket or http://.
        case native(NativeTransport)
        /// https://.
        case curl(CurlTransport)
        /// A base URL that cannot be used; every request fails with this message.
        case unusable(BaseURLProblem)
    }

    /// Creates a client. Nothing is connected until the first request.
    /// - Parameters:
    ///   - transport: The Unix socket or TCP base URL.
    ///   - timeouts: Default connect and total timeouts.
    /// - Throws: ``HTTPClientError`` of kind `.initialization` for an https:// URL when libcurl
    ///   (`libcurl.so.4`) cannot be loaded or started.
    public init(transport: HTTPTransport, timeouts: HTTPTimeouts = .default) throws(HTTPClientError) {
        self.transport = transport
        self.timeouts = timeouts
        switch transport {
        case .unixSocket(let path):
            engine = .native(NativeTransport(target: .unix(path: path)))
        case .tcp(let baseURL):
            switch HTTPBaseURL.parse(baseURL) {
            case .failure(let problem):
                engine = .unusable(problem)
            case .success(let url) where url.scheme == "http":
                engine = .native(NativeTransport(target: .tcp(url)))
            case .success:
                do {
                    engine = .curl(try CurlTransport(library: try CurlLibrary.shared.get(), baseURL: baseURL))
                } catch {
                    throw HTTPClientError(
                        kind: .initialization, message: error.message, endpoint: transport.description, request: "")
                }
            }
        }
    }

    /// Sends a request and returns the complete response, whatever its status.
    /// - Throws: ``HTTPClientError`` when no complete response arrived.
    public func send(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse {
        let transfer = Transfer(maxBufferedBody: Int.max)
        if let error = run(request, transfer: transfer) { throw error }
        return HTTPResponse(status: transfer.status, headers: transfer.headers, body: transfer.body)
    }

    /// Sends a request and passes the body of a 2xx response to `onChunk` as it arrives.
    ///
    /// A response with any other status is not streamed: its body (up to `maxErrorBodyBytes`)
    /// is returned in ``HTTPResponse/body`` for the error message.
    /// - Parameters:
    ///   - request: The request.
    ///   - maxErrorBodyBytes: How much of a non-2xx body to keep.
    ///   - onChunk: Called on the calling thread with each piece of body, in order. Return
    ///     ``HTTPStreamControl/stop`` to end the transfer early (not an error; the connection
    ///     is closed).
    /// - Returns: The status and headers (body empty for 2xx).
    /// - Throws: ``HTTPClientError`` for transport failures, or the error `onChunk` threw, unchanged
    ///   (the transfer is aborted and the connection closed).
    public func stream(
        _ request: HTTPRequest,
        maxErrorBodyBytes: Int = 1 << 20,
        onChunk: ([UInt8]) throws -> HTTPStreamControl
    ) throws -> HTTPResponse {
        let transfer = Transfer(maxBufferedBody: maxErrorBodyBytes)
        let failure: HTTPClientError? = withoutActuallyEscaping(onChunk) { sink in
            transfer.sink = sink
            defer { transfer.sink = nil }
            return run(request, transfer: transfer)
        }
        if let callbackError = transfer.callbackError { throw callbackError }
        if let failure { throw failure }
        return HTTPResponse(status: transfer.status, headers: transfer.headers, body: transfer.body)
    }

    /// Like ``stream(_:maxErrorBodyBytes:onChunk:)`` but delivers the 2xx body line by line
    /// (split on `\n`, a trailing `\r` removed, terminators not included; a last line without
    /// terminator is delivered at the end). Empty lines are delivered too.
    public func streamLines(
        _ request: HTTPRequest,
        maxErrorBodyBytes: Int = 1 << 20,
        onLine: ([UInt8]) throws -> HTTPStreamControl
    ) throws -> HTTPResponse {
        var splitter = HTTPLineSplitter()
        var stopped = false
        let response = try stream(request, maxErrorBodyBytes: maxErrorBodyBytes) { chunk in
            for line in splitter.feed(chunk) where try onLine(line) == .stop {
                stopped = true
                return .stop
            }
            return .continue
        }
        if !stopped, response.isSuccess, let last = splitter.finish() {
            _ = try onLine(last)
        }
        return response
    }

    /// The https:// transport's CA file (tests trust a throw-away certificate with it).
    var curlCAFile: String? {
        get { if case .curl(let curl) = engine { curl.caFile } else { nil } }
        set { if case .curl(let curl) = engine { curl.caFile = newValue } }
    }

    /// Checks and performs one request; returns an error instead of throwing so callers can
    /// also inspect the transfer's callback error.
    private func run(_ request: HTTPRequest, transfer: Transfer) -> HTTPClientError? {
        let requestLine = "\(request.method) \(request.path)"
        func invalid(_ message: String, code: Int32 = 0) -> HTTPClientError {
            HTTPClientError(
                kind: .invalidRequest, curlCode: code, message: message, endpoint: transport.description,
                request: requestLine)
        }

        guard request.path.hasPrefix("/") else { return invalid("path must start with '/'") }
        guard !request.path.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            return invalid("path contains spaces or control characters")
        }
        let method = request.method.rawValue
        guard !method.isEmpty, method.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return invalid("method '\(method)' is empty or contains spaces or control characters")
        }
        if case .unixSocket(let path) = transport, path.isEmpty { return invalid("empty socket path") }
        for field in request.headers {
            let text = field.name + field.value
            if text.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) || field.name.contains(":")
                || field.name.isEmpty
            {
                return invalid("header '\(field.name)' is unnamed or contains a line break, NUL or ':' in its name")
            }
        }

        let total = request.timeout ?? timeouts.total
        switch engine {
        case .unusable(let problem):
            return invalid(problem.message, code: 3)
        case .native(let native):
            do {
                try native.perform(request, transfer: transfer, connectTimeout: timeouts.connect, totalTimeout: total)
            } catch {
                if transfer.endedByCallback { return nil }
                var message = error.message
                if error.kind == .timeout {
                    let connecting = error.message.hasPrefix("connect")
                    let limit = connecting ? min(timeouts.connect, total) : total
                    message += " (\(connecting ? "connect" : "total") timeout \(limit.clampedMilliseconds) ms)"
                }
                return HTTPClientError(
                    kind: error.kind, curlCode: error.code, message: message, endpoint: transport.description,
                    request: requestLine)
            }
            return nil
        case .curl(let curl):
            guard let failure = curl.perform(request, transfer: transfer, connectTimeout: timeouts.connect, totalTimeout: total)
            else { return nil }
            return HTTPClientError(
                kind: failure.kind, curlCode: failure.code, message: failure.message, endpoint: transport.description,
                request: requestLine, isFromLibcurl: true)
        }
    }
}
