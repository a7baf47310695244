/// The daemon's Unix socket, resolved from an explicit path, `DOCKER_HOST`, or the default.
public struct DockerEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// The default socket, `/var/run/docker.sock`.
    public static let defaultSocketPath = "/var/run/docker.sock"

    /// The socket path.
    public var socketPath: String

    /// Uses the socket at `socketPath`.
    public init(socketPath: String) {
        self.socketPath = socketPath
    }

    /// Resolves the endpoint: an explicit path wins, then `DOCKER_HOST=unix://<path>`, then
    /// ``defaultSocketPath``. An empty explicit path or empty `DOCKER_HOST` counts as unset.
    /// - Parameters:
    ///   - explicitPath: A socket path from the command line or configuration.
    ///   - environment: The process environment (pass `ProcessInfo.processInfo.environment`).
    /// - Throws: ``DockerError`` of kind `.unsupported` for `tcp://`, `ssh://`, `npipe://` and
    ///   other non-Unix `DOCKER_HOST` values (this client speaks only to a local socket).
    public static func resolve(
        explicitPath: String? = nil, environment: [String: String]
    ) throws(DockerError) -> DockerEndpoint {
        if let explicitPath, !explicitPath.isEmpty {
            return DockerEndpoint(socketPath: explicitPath)
        }
        guard let host = environment["DOCKER_HOST"], !host.isEmpty else {
            return DockerEndpoint(socketPath: defaultSocketPath)
        }
        if host.hasPrefix("unix://") {
            let path = String(host.dropFirst("unix://".count))
            guard path.hasPrefix("/") else {
                throw DockerError(
                    kind: .invalidArgument, operation: "resolve the Docker endpoint",
                    message: "DOCKER_HOST=\(host): expected unix:///absolute/path/to/docker.sock")
            }
            return DockerEndpoint(socketPath: path)
        }
        if host.hasPrefix("/") {
            return DockerEndpoint(socketPath: host)
        }
        let scheme = host.split(separator: ":", maxSplits: 1).first.map(String.init) ?? host
        throw DockerError(
            kind: .unsupported, operation: "resolve the Docker endpoint",
            message: "DOCKER_HOST=\(host): the \(scheme) transport is not supported; "
                + "rdt4nn talks to a local daemon over a Unix socket (use unix:///path/to/docker.sock "
                + "or unset DOCKER_HOST)")
    }

    /// `unix://<socketPath>`.
    public var description: String { "unix://\(socketPath)" }
}

/// A Docker Engine API version such as `1.41`.
public struct DockerAPIVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The major number (1).
    public var major: Int
    /// The minor number (41).
    public var minor: Int

    /// Creates a version.
    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// Parses `"1.41"`; returns `nil` for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: ".")
        guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]), major >= 0, minor >= 0
        else { return nil }
        self.init(major: major, minor: minor)
    }

    /// The oldest API this client accepts (Docker 20.10).
    public static let minimumSupported = DockerAPIVersion(major: 1, minor: 41)
    /// The newest API this client was written for; newer daemons are spoken to at this version.
    public static let maximumSupported = DockerAPIVersion(major: 1, minor: 47)

    /// `1.41`.
    public var description: String { "\(major).\(minor)" }

    /// Orders by major, then minor.
    public static func < (lhs: DockerAPIVersion, rhs: DockerAPIVersion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }

    /// The version to speak: min(daemon, ``maximumSupported``).
    /// - Throws: ``DockerError`` `.unsupported` if that is older than ``minimumSupported``.
    public static func negotiate(daemon: DockerAPIVersion) throws(DockerError) -> DockerAPIVersion {
        let chosen = min(daemon, maximumSupported)
        guard chosen >= minimumSupported else {
            throw DockerError(
                kind: .unsupported, operation: "negotiate the API version",
                message: "the daemon speaks API \(daemon), older than the oldest supported, \(minimumSupported) "
                    + "(Docker 20.10); upgrade Docker")
        }
        return chosen
    }
}
