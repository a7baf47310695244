internal import CCurlShim

/// libcurl, loaded with `dlopen` the first time an https:// client is made, never linked
/// (linking it maps about 7 MB of TLS, Kerberos, LDAP… libraries into every run).
///
/// `@unchecked Sendable` is justified: `api` points to a table that ``CCurlShim_load``
/// fills in once, before the value is published through the `static let`, and that is only
/// read (and never freed) afterwards.
struct CurlLibrary: @unchecked Sendable {
    /// The resolved entry points.
    let api: UnsafePointer<CCurlShim_library>
    /// libcurl's version, e.g. `7.88.1`.
    var version: String { String(cString: CCurlShim_version(api)) }

    /// The soname loaded for https://.
    static let soname = "libcurl.so.4"

    /// libcurl, loaded (and `curl_global_init` run) exactly once, on first use; a
    /// `static let` is initialised lazily and thread-safely, so no mutable global is needed.
    static let shared: Result<CurlLibrary, CurlLoadFailure> = load(soname: soname)

    /// Loads `soname` and resolves its entry points. Each successful call loads a new table
    /// (the library itself is shared by the dynamic loader); use ``shared``.
    static func load(soname: String) -> Result<CurlLibrary, CurlLoadFailure> {
        let table = UnsafeMutablePointer<CCurlShim_library>.allocate(capacity: 1)
        var error = [CChar](repeating: 0, count: 512)
        guard CCurlShim_load(soname, table, &error, error.count) == 0 else {
            table.deallocate()
            let reason = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return .failure(CurlLoadFailure(
                message: "https:// needs libcurl, which could not be loaded (\(reason)); install the libcurl 4 "
                    + "shared library (Debian/Ubuntu: apt-get install libcurl4) or use an http:// URL"))
        }
        return .success(CurlLibrary(api: UnsafePointer(table)))
    }
}

/// Why libcurl is unavailable.
struct CurlLoadFailure: Error, Sendable, Hashable {
    /// The explanation, naming the library and how to install it.
    var message: String
}

/// The https:// transport: one libcurl easy handle, reused for every request so
/// connections (and TLS sessions) are kept alive.
///
/// Not thread-safe, like ``HTTPClient`` which owns it.
final class CurlTransport {
    private let library: CurlLibrary
    private let handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private let url: String

    /// An easy handle for requests below `baseURL`.
    init(library: CurlLibrary, baseURL: String) throws(CurlLoadFailure) {
        guard let handle = CCurlShim_easy_init(library.api) else {
            throw CurlLoadFailure(message: "curl_easy_init returned NULL")
        }
        self.library = library
        self.handle = handle
        var prefix = baseURL
        while prefix.hasSuffix("/") { prefix.removeLast() }
        self.url = prefix
        let size = max(Int(CCurlShim_error_size()), 256)
        errorBuffer = .allocate(capacity: size)
        errorBuffer.initialize(repeating: 0, count: size)
    }

    deinit {
        CCurlShim_easy_cleanup(library.api, handle)
        errorBuffer.deallocate()
    }

    /// A test hook: PEM file of the certificate authorities to trust instead of the system's.
    var caFile: String?

    /// Performs one request; the response goes into `transfer`.
    /// - Returns: `nil`, or the failure as (kind, CURLcode, libcurl's message).
    func perform(
        _ request: HTTPRequest, transfer: Transfer, connectTimeout: Duration, totalTimeout: Duration
    ) -> (kind: HTTPClientError.Kind, code: Int32, message: String)? {
        let api = library.api
        func text(_ code: CURLcode) -> String {
            let detail = String(cString: errorBuffer)
            return detail.isEmpty ? String(cString: CCurlShim_easy_strerror(api, code)) : detail
        }

        CCurlShim_easy_reset(api, handle)  // keeps live connections and caches
        errorBuffer[0] = 0

        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { CCurlShim_slist_free_all(api, headerList) }
        func append(_ line: String) { headerList = CCurlShim_slist_append(api, headerList, line) }
        var userSetsExpect = false
        for field in request.headers {
            if field.name.lowercased() == "expect" { userSetsExpect = true }
            // "Name;" is libcurl's way of sending a header with an empty value.
            append(field.value.isEmpty ? "\(field.name);" : "\(field.name): \(field.value)")
        }
        if !userSetsExpect { append("Expect:") }  // never wait for 100-continue

        let totalMs = totalTimeout.clampedMilliseconds
        let connectMs = min(connectTimeout.clampedMilliseconds, totalMs)
        let transferPointer = Unmanaged.passUnretained(transfer).toOpaque()

        var setupCode = CURLE_OK
        func set(_ code: CURLcode) { if setupCode == CURLE_OK { setupCode = code } }
        set(CCurlShim_setopt_string(api, handle, CURLOPT_URL, url + request.path))
        set(CCurlShim_setopt_long(api, handle, CURLOPT_NOSIGNAL, 1))
        set(CCurlShim_setopt_long(api, handle, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1)))
        set(CCurlShim_setopt_long(api, handle, CURLOPT_CONNECTTIMEOUT_MS, connectMs))
        set(CCurlShim_setopt_long(api, handle, CURLOPT_TIMEOUT_MS, totalMs))
        set(CCurlShim_setopt_pointer(api, handle, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer)))
        set(CCurlShim_setopt_slist(api, handle, CURLOPT_HTTPHEADER, headerList))
        set(CCurlShim_setopt_write_function(api, handle, CurlCallbacks.write))
        set(CCurlShim_setopt_pointer(api, handle, CURLOPT_WRITEDATA, transferPointer))
        set(CCurlShim_setopt_header_function(api, handle, CurlCallbacks.header))
        set(CCurlShim_setopt_pointer(api, handle, CURLOPT_HEADERDATA, transferPointer))
        if let caFile { set(CCurlShim_setopt_string(api, handle, CURLOPT_CAINFO, caFile)) }

        let method = request.method
        var body = request.body ?? []
        let sendsBody = request.body != nil || method == .post || method == .put
        let count = body.count
        if body.isEmpty { body = [0] }  // a valid pointer for a zero-length body

        let code: CURLcode = body.withUnsafeMutableBytes { bytes in
            if sendsBody {
                set(CCurlShim_setopt_off_t(api, handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(count)))
                set(CCurlShim_setopt_pointer(api, handle, CURLOPT_POSTFIELDS, bytes.baseAddress))
                if method != .post { set(CCurlShim_setopt_string(api, handle, CURLOPT_CUSTOMREQUEST, method.rawValue)) }
            } else if method == .get {
                set(CCurlShim_setopt_long(api, handle, CURLOPT_HTTPGET, 1))
            } else if method == .head {
                set(CCurlShim_setopt_long(api, handle, CURLOPT_NOBODY, 1))
            } else {
                set(CCurlShim_setopt_string(api, handle, CURLOPT_CUSTOMREQUEST, method.rawValue))
            }
            guard setupCode == CURLE_OK else { return setupCode }
            return withExtendedLifetime(transfer) { CCurlShim_easy_perform(api, handle) }
        }

        if setupCode != CURLE_OK {
            return (.invalidRequest, Int32(bitPattern: setupCode.rawValue),
                    "curl_easy_setopt: \(String(cString: CCurlShim_easy_strerror(api, setupCode)))")
        }
        let number = Int32(bitPattern: code.rawValue)
        switch code {
        case CURLE_OK:
            break
        case CURLE_WRITE_ERROR where transfer.endedByCallback:
            break  // the callback ended the transfer
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return (.connect, number, text(code))
        case CURLE_OPERATION_TIMEDOUT:
            return (.timeout, number, text(code))
        default:
            return (.transfer, number, text(code))
        }
        var status = 0
        if CCurlShim_getinfo_long(api, handle, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK, status != 0 {
            transfer.status = status
        }
        return nil
    }
}

extension Transfer {
    /// One header line from libcurl (status lines start a new response head).
    fileprivate func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) {
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
            let name = String(line[..<colon]).trimmingBlanks()
            let value = String(line[line.index(after: colon)...]).trimmingBlanks()
            headers.add(name: name, value: value)
        }
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
