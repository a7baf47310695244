internal import FoundationEssentials

/// An image reference such as `busybox`, `rdt4nn/spin:latest`,
/// `registry.example.com:5000/lab/app:1` or `app@sha256:…`.
public struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    /// The repository as written, without tag or digest (e.g. `registry.example.com:5000/lab/app`).
    public var name: String
    /// The tag, if one was written.
    public var tag: String?
    /// The digest (`sha256:…`), if one was written.
    public var digest: String?

    /// Parses a reference.
    /// - Throws: ``DockerError`` `.invalidArgument` for an empty name, tag or digest, or whitespace.
    public init(parsing text: String) throws(DockerError) {
        func bad(_ why: String) -> DockerError {
            DockerError(kind: .invalidArgument, operation: "parse image reference", subject: text, message: why)
        }
        guard !text.isEmpty else { throw bad("empty image reference") }
        guard !text.contains(where: { $0.isWhitespace }) else { throw bad("contains whitespace") }
        var rest = Substring(text)
        if let at = rest.firstIndex(of: "@") {
            let digest = String(rest[rest.index(after: at)...])
            guard !digest.isEmpty else { throw bad("empty digest after '@'") }
            self.digest = digest
            rest = rest[..<at]
        }
        let lastSlash = rest.lastIndex(of: "/")
        if let colon = rest.lastIndex(of: ":"), lastSlash.map({ colon > $0 }) ?? true {
            let tag = String(rest[rest.index(after: colon)...])
            guard !tag.isEmpty else { throw bad("empty tag after ':'") }
            self.tag = tag
            rest = rest[..<colon]
        }
        guard !rest.isEmpty, !rest.hasPrefix("/"), !rest.hasSuffix("/") else { throw bad("empty repository name") }
        self.name = String(rest)
    }

    /// The registry host the reference points to: the first path component when it looks like
    /// a host (contains `.` or `:`, or is `localhost`), otherwise `docker.io`.
    public var registryHost: String {
        guard let slash = name.firstIndex(of: "/") else { return "docker.io" }
        let first = name[..<slash]
        if first.contains(".") || first.contains(":") || first == "localhost" {
            return RegistryCredential.normalizedRegistry(String(first))
        }
        return "docker.io"
    }

    /// The tag to pull: the written tag, `latest` if neither tag nor digest was written,
    /// `nil` when pulling by digest.
    public var effectiveTag: String? {
        if digest != nil { return nil }
        return tag ?? "latest"
    }

    /// `name[:tag][@digest]` as written.
    public var description: String {
        name + (tag.map { ":" + $0 } ?? "") + (digest.map { "@" + $0 } ?? "")
    }
}

/// Credentials for one registry, sent as `X-Registry-Auth` only when pulling from that registry.
public struct RegistryCredential: Sendable, Hashable, CustomStringConvertible {
    /// The registry host (and port), e.g. `registry.example.com:5000`, or `docker.io` for Docker Hub.
    /// A scheme or path (`https://index.docker.io/v1/`) is accepted and ignored.
    public var registry: String
    /// The user name.
    public var username: String
    /// The password or access token.
    public var password: String

    /// Creates a credential.
    public init(registry: String, username: String, password: String) {
        self.registry = registry
        self.username = username
        self.password = password
    }

    /// Environment variable holding the registry host for ``fromEnvironment(_:)``.
    public static let registryVariable = "RDT4NN_REGISTRY"
    /// Environment variable holding the user name for ``fromEnvironment(_:)``.
    public static let usernameVariable = "RDT4NN_REGISTRY_USERNAME"
    /// Environment variable holding the password for ``fromEnvironment(_:)``.
    public static let passwordVariable = "RDT4NN_REGISTRY_PASSWORD"

    /// Reads `RDT4NN_REGISTRY`, `RDT4NN_REGISTRY_USERNAME` and `RDT4NN_REGISTRY_PASSWORD`;
    /// `nil` unless all three are set and non-empty.
    public static func fromEnvironment(_ environment: [String: String]) -> RegistryCredential? {
        guard let registry = environment[registryVariable], !registry.isEmpty,
            let username = environment[usernameVariable], !username.isEmpty,
            let password = environment[passwordVariable], !password.isEmpty
        else { return nil }
        return RegistryCredential(registry: registry, username: username, password: password)
    }

    /// Lower-cased host[:port] without scheme or path; Docker Hub's aliases become `docker.io`.
    public static func normalizedRegistry(_ text: String) -> String {
        var host = text.lowercased()
        for scheme in ["https://", "http://"] where host.hasPrefix(scheme) {
            host.removeFirst(scheme.count)
        }
        if let slash = host.firstIndex(of: "/") { host = String(host[..<slash]) }
        switch host {
        case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com", "hub.docker.com":
            return "docker.io"
        default:
            return host
        }
    }

    /// Whether this credential belongs to the registry of `image`.
    public func matches(_ image: ImageReference) -> Bool {
        Self.normalizedRegistry(registry) == image.registryHost
    }

    /// The `X-Registry-Auth` value: base64url of `{"username","password","serveraddress"}`.
    public var registryAuthHeader: String {
        struct Payload: Encodable {
            var username: String
            var password: String
            var serveraddress: String
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let payload = Payload(
            username: username, password: password, serveraddress: Self.normalizedRegistry(registry))
        let json = (try? encoder.encode(payload)) ?? Data("{}".utf8)
        return String(json.base64EncodedString().map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    }

    /// Names the registry and user; never shows the password.
    public var description: String {
        "RegistryCredential(registry: \(registry), username: \(username), password: ***)"
    }
}
