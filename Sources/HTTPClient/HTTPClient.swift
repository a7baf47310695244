internal import CCurlShim

/// A small blocking HTTP/1.1 client over libcurl, for Unix-socket (Docker) and TCP (InfluxDB) servers.
///
/// One client owns one libcurl easy handle, reused for every request, so connections are kept
/// alive between requests to the same endpoint.
///
/// ## Thread safety
/// A client is **not** `Sendable`, deliberately: a libcurl easy handle must never be used by two
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

    private let handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private let errorBufferSize: Int

    /// Creates a client. Nothing is connected until the first request.
    /// - Parameters:
    ///   - transport: The Unix socket or TCP base URL.
    ///   - timeouts: Default connect and total timeouts.
    /// - Throws: ``HTTPClientError`` of kind `.initialization` if libcurl cannot be set up.
    public init(transport: HTTPTransport, timeouts: HTTPTimeouts = .default) throws(HTTPClientError) {
        let globalStatus = CurlGlobal.initStatus
        guard globalStatus == 0 else {
            throw HTTPClientError(
                kind: .initialization, curlCode: globalStatus, message: "curl_global_init failed",
                endpoint: transport.description, request: "")
        }
        guard let handle = curl_easy_init() else {
            throw HTTPClientError(
                kind: .initialization, message: "curl_easy_init returned NULL",
                endpoint: transport.description, request: "")
        }
        self.transport = transport
        self.timeouts = timeouts
        self.handle = handle
        self.errorBufferSize = max(Int(CCurlShim_error_size()), 256)
        self.errorBuffer = .allocate(capacity: errorBufferSize)
        self.errorBuffer.initialize(repeating: 0, count: errorBufferSize)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
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
    ///     ``HTTPStreamControl/stop`` to end the transfer early (not an error).
    /// - Returns: The status and headers (body empty for 2xx).
    /// - Throws: ``HTTPClientError`` for transport failures, or the error `onChunk` threw, unchanged
    ///   (the transfer is aborted).
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

    // MARK: - libcurl plumbing

    /// Performs one request; returns an error instead of throwing so callers can also
    /// inspect the transfer's callback error.
    private func run(_ request: HTTPRequest, transfer: Transfer) -> HTTPClientError? {
        let requestLine = "\(request.method) \(request.path)"
        func failure(_ kind: HTTPClientError.Kind, _ code: CURLcode, _ message: String? = nil) -> HTTPClientError {
            var text = message ?? ""
            if text.isEmpty {
                text = String(cString: errorBuffer)
                if text.isEmpty { text = String(cString: curl_easy_strerror(code)) }
            }
            return HTTPClientError(
                kind: kind, curlCode: Int32(bitPattern: code.rawValue), message: text,
                endpoint: transport.description, request: requestLine)
        }
        func invalid(_ message: String) -> HTTPClientError {
            HTTPClientError(
                kind: .invalidRequest, message: message, endpoint: transport.description, request: requestLine)
        }

        guard request.path.hasPrefix("/") else { return invalid("path must start with '/'") }
        guard !request.path.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            return invalid("path contains spaces or control characters")
        }
        if case .unixSocket(let path) = transport, path.isEmpty { return invalid("empty socket path") }
        for field in request.headers {
            let text = field.name + field.value
            if text.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) || field.name.contains(":") {
                return invalid("header '\(field.name)' contains a line break, NUL or ':' in its name")
            }
        }

        curl_easy_reset(handle)  // keeps live connections and caches
        errorBuffer[0] = 0

        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(headerList) }
        func append(_ line: String) { headerList = curl_slist_append(headerList, line) }
        var userSetsExpect = false
        for field in request.headers {
            if field.name.lowercased() == "expect" { userSetsExpect = true }
            // "Name;" is libcurl's way of sending a header with an empty value.
            append(field.value.isEmpty ? "\(field.name);" : "\(field.name): \(field.value)")
        }
        if !userSetsExpect { append("Expect:") }  // never wait for 100-continue

        let totalMs = (request.timeout ?? timeouts.total).clampedMilliseconds
        let connectMs = min(timeouts.connect.clampedMilliseconds, totalMs)
        let transferPointer = Unmanaged.passUnretained(transfer).toOpaque()

        var setupCode = CURLE_OK
        func set(_ code: CURLcode) { if setupCode == CURLE_OK { setupCode = code } }
        set(CCurlShim_setopt_string(handle, CURLOPT_URL, transport.urlPrefix + request.path))
        if case .unixSocket(let path) = transport {
            set(CCurlShim_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, path))
        }
        set(CCurlShim_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set(CCurlShim_setopt_long(handle, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1)))
        set(CCurlShim_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, connectMs))
        set(CCurlShim_setopt_long(handle, CURLOPT_TIMEOUT_MS, totalMs))
        set(CCurlShim_setopt_pointer(handle, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer)))
        set(CCurlShim_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList))
        set(CCurlShim_setopt_write_function(handle, CurlCallbacks.write))
        set(CCurlShim_setopt_pointer(handle, CURLOPT_WRITEDATA, transferPointer))
        set(CCurlShim_setopt_header_function(handle, CurlCallbacks.header))
        set(CCurlShim_setopt_pointer(handle, CURLOPT_HEADERDATA, transferPointer))

        let method = request.method
        var body = request.body ?? []
        let sendsBody = request.body != nil || method == .post || method == .put
        let count = body.count
        if body.isEmpty { body = [0] }  // a valid pointer for a zero-length body

        let code: CURLcode = body.withUnsafeMutableBytes { bytes in
            if sendsBody {
                set(CCurlShim_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(count)))
                set(CCurlShim_setopt_pointer(handle, CURLOPT_POSTFIELDS, bytes.baseAddress))
                if method != .post { set(CCurlShim_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method.rawValue)) }
            } else if method == .get {
                set(CCurlShim_setopt_long(handle, CURLOPT_HTTPGET, 1))
            } else if method == .head {
                set(CCurlShim_setopt_long(handle, CURLOPT_NOBODY, 1))
            } else {
                set(CCurlShim_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method.rawValue))
            }
            guard setupCode == CURLE_OK else { return setupCode }
            return withExtendedLifetime(transfer) { curl_easy_perform(handle) }
        }

        if setupCode != CURLE_OK {
            return failure(.invalidRequest, setupCode, "curl_easy_setopt: \(String(cString: curl_easy_strerror(setupCode)))")
        }
        switch code {
        case CURLE_OK:
            break
        case CURLE_WRITE_ERROR where transfer.stopped || transfer.callbackError != nil:
            break  // the callback ended the transfer
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return failure(.connect, code)
        case CURLE_OPERATION_TIMEDOUT:
            return failure(.timeout, code)
        default:
            return failure(.transfer, code)
        }
        var status = 0
        if CCurlShim_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK, status != 0 {
            transfer.status = status
        }
        return nil
    }
}

/// `curl_global_init`, run exactly once, before the first easy handle exists.
/// A `static let` is initialised lazily and thread-safely (swift_once), so no mutable global is needed.
private enum CurlGlobal {
    static let initStatus: Int32 = Int32(bitPattern: curl_global_init(CCurlShim_global_default_flags()).rawValue)
}

/// Per-request state shared with the C callbacks through `CURLOPT_WRITEDATA`/`HEADERDATA`.
/// Only touched by the thread running `curl_easy_perform`.
private final class Transfer {
    var status = 0
    var headers = HTTPHeaders()
    var body: [UInt8] = []
    let maxBufferedBody: Int
    var sink: (([UInt8]) throws -> HTTPStreamControl)?
    var callbackError: (any Error)?
    var stopped = false

    init(maxBufferedBody: Int) { self.maxBufferedBody = maxBufferedBody }

    /// Returns false to abort the transfer.
    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if let sink, (200..<300).contains(status) {
            do {
                if try sink(Array(bytes)) == .stop {
                    stopped = true
                    return false
                }
            } catch {
                callbackError = error
                return false
            }
            return true
        }
        let room = maxBufferedBody - body.count
        if room > 0 { body.append(contentsOf: bytes.prefix(room)) }
        return true
    }

    func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0x0A || bytes[end - 1] == 0x0D { end -= 1 }
        // (Stripped as bytes: in a String, "\r\n" is one Character.)
        let line = String(decoding: bytes[0..<end], as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            // A new response head (after 100 Continue or a redirect) replaces the previous one.
            headers = HTTPHeaders()
            let parts = line.split(separator: " ", maxSplits: 2)
            status = parts.count >= 2 ? Int(parts[1]) ?? 0 : 0
        } else if let colon = line.firstIndex(of: ":") {
            let name = String(line[..<colon]).trimmingSpaces()
            let value = String(line[line.index(after: colon)...]).trimmingSpaces()
            headers.add(name: name, value: value)
        }
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}

/// The C callbacks. Non-capturing, so they convert to C function pointers.
private enum CurlCallbacks {
    static let write: CCurlShim_data_callback = { data, size, nmemb, userdata in
        let count = size * nmemb
        guard let userdata else { return 0 }
        let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
        let bytes = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : count)
        return transfer.receiveBody(bytes) ? count : 0
    }

    static let header: CCurlShim_data_callback = { data, size, nmemb, userdata in
        let count = size * nmemb
        guard let userdata else { return 0 }
        let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
        transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : count))
        return count
    }
}
