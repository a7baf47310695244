/// A failed HTTP exchange: the request never got a complete response.
/// (An HTTP error status is not an ``HTTPClientError``: it is returned in ``HTTPResponse``.)
public struct HTTPClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Broad classes of failure callers may act on.
    public enum Kind: Sendable, Hashable {
        /// The socket or host could not be reached (no daemon, wrong path, refused, DNS).
        case connect
        /// The connect or total timeout elapsed.
        case timeout
        /// The connection broke or the response was malformed.
        case transfer
        /// The request itself is invalid (bad path, header with a line break, bad base URL);
        /// nothing was sent.
        case invalidRequest
        /// The client could not be set up (for https://: libcurl is missing or failed to start).
        case initialization
    }

    /// The class of failure.
    public var kind: Kind
    /// libcurl's `CURLcode` for an https:// request. For the built-in HTTP/1.1 transport
    /// (Unix sockets, http://) the code libcurl reports for the same failure, so callers can
    /// tell failures apart the same way for every transport: 3 bad URL, 6 cannot resolve,
    /// 7 cannot connect, 8 malformed response, 18 response cut short, 28 timeout,
    /// 52 empty reply, 55 send failed, 56 receive failed; 0 when none applies.
    public var curlCode: Int32
    /// What went wrong, in words (libcurl's detailed message for https://).
    public var message: String
    /// The socket path or base URL.
    public var endpoint: String
    /// The request method and path, e.g. `GET /_ping`.
    public var request: String
    /// Whether the error was reported by libcurl (an https:// request); `false` for the
    /// built-in transport. Only libcurl's errors show their code in ``description``.
    public var isFromLibcurl: Bool

    /// Creates an error.
    public init(
        kind: Kind, curlCode: Int32 = 0, message: String, endpoint: String, request: String,
        isFromLibcurl: Bool = false
    ) {
        self.kind = kind
        self.curlCode = curlCode
        self.message = message
        self.endpoint = endpoint
        self.request = request
        self.isFromLibcurl = isFromLibcurl
    }

    /// A user-facing message, e.g. `cannot connect to /var/run/docker.sock: connect: No such file or directory`.
    public var description: String {
        let code = isFromLibcurl && curlCode != 0 ? " (curl error \(curlCode))" : ""
        switch kind {
        case .connect:
            return "cannot connect to \(endpoint): \(message)\(code)"
        case .timeout:
            return "timed out talking to \(endpoint) (\(request)): \(message)\(code)"
        case .transfer:
            return "HTTP request \(request) to \(endpoint) failed: \(message)\(code)"
        case .invalidRequest:
            return "invalid HTTP request \(request) to \(endpoint): \(message)"
        case .initialization:
            return "cannot set up an HTTP client for \(endpoint): \(message)"
        }
    }
}
