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
        /// The request itself is invalid (bad path, header with a line break); nothing was sent.
        case invalidRequest
        /// libcurl could not be initialised.
        case initialization
    }

    /// The class of failure.
    public var kind: Kind
    /// libcurl's `CURLcode` (0 when the error did not come from libcurl).
    public var curlCode: Int32
    /// libcurl's detailed message, or our own.
    public var message: String
    /// The socket path or base URL.
    public var endpoint: String
    /// The request method and path, e.g. `GET /_ping`.
    public var request: String

    /// Creates an error.
    public init(kind: Kind, curlCode: Int32 = 0, message: String, endpoint: String, request: String) {
        self.kind = kind
        self.curlCode = curlCode
        self.message = message
        self.endpoint = endpoint
        self.request = request
    }

    /// A user-facing message, e.g. `cannot connect to /var/run/docker.sock: Couldn't connect to server`.
    public var description: String {
        let code = curlCode != 0 ? " (curl error \(curlCode))" : ""
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
            return "cannot initialise libcurl: \(message)"
        }
    }
}
