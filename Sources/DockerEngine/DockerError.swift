public import HTTPClient

/// A failed Docker operation, with the daemon's own message where there is one.
///
/// ``description`` reads like `docker: cannot start container 'bench-x-web': <daemon message>`.
public struct DockerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Broad classes of failure callers may act on.
    public enum Kind: Sendable, Hashable {
        /// The daemon answered with an error status; ``DockerError/status`` and the daemon's message are set.
        case daemon
        /// The daemon answered 200 but a streamed message carried an error (pull, import).
        case stream
        /// The daemon could not be reached or the connection broke; see ``DockerError/transport``.
        case transport
        /// The daemon's answer could not be understood.
        case protocolViolation
        /// The endpoint or API version is not supported by this client (e.g. `tcp://` DOCKER_HOST).
        case unsupported
        /// An argument was invalid; nothing was sent.
        case invalidArgument
    }

    /// The class of failure.
    public var kind: Kind
    /// What was attempted, as a verb phrase: `start container`, `pull image`.
    public var operation: String
    /// The container or image name (or id) the operation was about, if any.
    public var subject: String?
    /// The HTTP status of the daemon's answer, when there was one.
    public var status: Int?
    /// The daemon's `message` (or a streamed `error`), or a description of what went wrong.
    public var message: String
    /// The transport error, for kind ``Kind/transport``.
    public var transport: HTTPClientError?

    /// Creates an error.
    public init(
        kind: Kind, operation: String, subject: String? = nil, status: Int? = nil, message: String,
        transport: HTTPClientError? = nil
    ) {
        self.kind = kind
        self.operation = operation
        self.subject = subject
        self.status = status
        self.message = message
        self.transport = transport
    }

    /// `docker: cannot <operation> '<subject>': <message>`.
    public var description: String {
        if let subject {
            return "docker: cannot \(operation) '\(subject)': \(message)"
        }
        return "docker: cannot \(operation): \(message)"
    }

    /// The daemon answered 404 (no such container, image or exec instance).
    public var isNotFound: Bool { status == 404 }
    /// The daemon answered 409 (name in use, container not running, removal of a running container).
    public var isConflict: Bool { status == 409 }
}
