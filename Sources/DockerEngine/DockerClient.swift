internal import FoundationEssentials
internal import Glibc
internal import SystemSupport
public import HTTPClient

/// A client for the Docker Engine API over the daemon's Unix socket.
///
/// Create one per process and share it: it is `Sendable`, keeps a small pool of kept-alive
/// connections, and every call is blocking and may run on any thread (concurrent calls use
/// separate connections). The API version is negotiated once, when the client is created.
///
/// Every failure is a ``DockerError`` whose description names the operation, the container or
/// image, and the daemon's message: `docker: cannot start container 'bench-x-web': …`.
public final class DockerClient: Sendable {
    /// How to reach and talk to the daemon.
    public struct Configuration: Sendable, Hashable {
        /// An explicit socket path (wins over `DOCKER_HOST`).
        public var socketPath: String?
        /// The environment `DOCKER_HOST` is read from.
        public var environment: [String: String]
        /// Use this API version instead of negotiating it with `GET /version`.
        public var apiVersion: DockerAPIVersion?
        /// Registry credentials; each is sent only to its own registry.
        public var registryCredentials: [RegistryCredential]
        /// Connect timeout for every request.
        public var connectTimeout: Duration
        /// Total timeout for ordinary requests (inspect, create, start, …).
        public var requestTimeout: Duration
        /// Total timeout for pulls and imports.
        public var pullTimeout: Duration

        /// Creates a configuration. By default the socket comes from `DOCKER_HOST` or
        /// `/var/run/docker.sock`, and credentials from ``RegistryCredential/fromEnvironment(_:)``;
        /// `environment` defaults to the process environment.
        public init(
            socketPath: String? = nil,
            environment: [String: String]? = nil,
            apiVersion: DockerAPIVersion? = nil,
            registryCredentials: [RegistryCredential]? = nil,
            connectTimeout: Duration = .seconds(5),
            requestTimeout: Duration = .seconds(60),
            pullTimeout: Duration = .seconds(1800)
        ) {
            let environment = environment ?? ProcessInfo.processInfo.environment
            self.socketPath = socketPath
            self.environment = environment
            self.apiVersion = apiVersion
            self.registryCredentials =
                registryCredentials ?? RegistryCredential.fromEnvironment(environment).map { [$0] } ?? []
            self.connectTimeout = connectTimeout
            self.requestTimeout = requestTimeout
            self.pullTimeout = pullTimeout
        }
    }

    /// The socket in use.
    public let endpoint: DockerEndpoint
    /// The negotiated API version; every versioned path starts with `/v<apiVersion>`.
    public let apiVersion: DockerAPIVersion
    /// The configuration the client was made with.
    public let configuration: Configuration
    private let pool: ConnectionPool

    /// Resolves the endpoint and negotiates the API version (`GET /version`, unless the
    /// configuration fixes one).
    /// - Throws: ``DockerError``: `.unsupported` for a `tcp://` DOCKER_HOST or a daemon older
    ///   than API 1.41; `.transport` when the daemon is unreachable.
    public init(configuration: Configuration = Configuration()) throws(DockerError) {
        self.configuration = configuration
        let endpoint = try DockerEndpoint.resolve(
            explicitPath: configuration.socketPath, environment: configuration.environment)
        self.endpoint = endpoint
        self.pool = ConnectionPool(
            transport: .unixSocket(path: endpoint.socketPath),
            timeouts: HTTPTimeouts(connect: configuration.connectTimeout, total: configuration.requestTimeout))
        if let fixed = configuration.apiVersion {
            self.apiVersion = fixed
        } else {
            let version = try Self.fetchVersion(pool: pool)
            guard let daemon = DockerAPIVersion(version.apiVersion) else {
                throw DockerError(
                    kind: .protocolViolation, operation: "negotiate the API version",
                    message: "the daemon reported ApiVersion '\(version.apiVersion)'")
            }
            self.apiVersion = try DockerAPIVersion.negotiate(daemon: daemon)
        }
    }

    // MARK: - System

    /// `GET /_ping`: checks the daemon answers.
    public func ping() throws(DockerError) -> DockerPing {
        let response = try perform(.get, "/_ping", versioned: false, operation: "ping the daemon", accept: [200])
        return DockerPing(body: response.bodyText, apiVersion: response.headers["Api-Version"])
    }

    /// `GET /version`.
    public func version() throws(DockerError) -> DockerVersion {
        try Self.fetchVersion(pool: pool)
    }

    private static func fetchVersion(pool: ConnectionPool) throws(DockerError) -> DockerVersion {
        let operation = "read the daemon version"
        let response = try Self.send(
            pool: pool, HTTPRequest(path: "/version"), operation: operation, subject: nil, accept: [200])
        return try decode(DockerVersion.self, response, operation: operation, subject: nil)
    }

    // MARK: - Images

    /// `GET /images/{name}/json`.
    /// - Throws: ``DockerError`` with ``DockerError/isNotFound`` when the image is not present.
    public func inspectImage(_ name: String) throws(DockerError) -> ImageInspect {
        let operation = "inspect image"
        let response = try perform(
            .get, "/images/\(escapePath(name))/json", operation: operation, subject: name, accept: [200])
        return try Self.decode(ImageInspect.self, response, operation: operation, subject: name)
    }

    /// Whether the image is present locally.
    public func imageExists(_ name: String) throws(DockerError) -> Bool {
        do {
            _ = try inspectImage(name)
            return true
        } catch where error.isNotFound {
            return false
        }
    }

    /// `POST /images/create?fromImage=…&tag=…`: pulls an image, with `X-Registry-Auth` when a
    /// configured credential matches the image's registry.
    ///
    /// The progress stream is parsed line by line; a message carrying `error`/`errorDetail`
    /// fails the pull even though the HTTP status was 200.
    /// - Parameters:
    ///   - reference: `name[:tag][@digest]`; no tag means `latest` (never all tags).
    ///   - onProgress: Called for each progress message.
    public func pullImage(
        _ reference: String, onProgress: ((PullProgress) -> Void)? = nil
    ) throws(DockerError) {
        let image = try ImageReference(parsing: reference)
        var query: [(String, String)] = [
            ("fromImage", image.name + (image.digest.map { "@" + $0 } ?? ""))
        ]
        if let tag = image.effectiveTag { query.append(("tag", tag)) }
        var headers = HTTPHeaders()
        if let credential = configuration.registryCredentials.first(where: { $0.matches(image) }) {
            headers.add(name: "X-Registry-Auth", value: credential.registryAuthHeader)
        }
        _ = try progressStream(
            HTTPRequest(
                method: .post, path: versioned("/images/create", query), headers: headers,
                timeout: configuration.pullTimeout),
            operation: "pull image", subject: reference, onProgress: onProgress)
    }

    /// `POST /images/create?fromSrc=-`: imports a root filesystem tarball as an image
    /// (what `docker import` does).
    /// - Returns: The new image's id, as the daemon reported it.
    public func importImage(
        tarball: [UInt8], repository: String, tag: String = "latest",
        onProgress: ((PullProgress) -> Void)? = nil
    ) throws(DockerError) -> String {
        let subject = "\(repository):\(tag)"
        let query = [("fromSrc", "-"), ("repo", repository), ("tag", tag)]
        let last = try progressStream(
            HTTPRequest(
                method: .post, path: versioned("/images/create", query),
                headers: ["Content-Type": "application/x-tar"], body: tarball, timeout: configuration.pullTimeout),
            operation: "import image", subject: subject, onProgress: onProgress)
        return last?.status ?? ""
    }

    /// `DELETE /images/{name}`.
    public func removeImage(_ name: String, force: Bool = false) throws(DockerError) {
        _ = try perform(
            .delete, "/images/\(escapePath(name))", query: [("force", force ? "1" : "0")],
            operation: "remove image", subject: name, accept: [200])
    }

    /// Runs a pull/import progress stream; returns the last message.
    private func progressStream(
        _ request: HTTPRequest, operation: String, subject: String, onProgress: ((PullProgress) -> Void)?
    ) throws(DockerError) -> PullProgress? {
        var last: PullProgress?
        try withConnection { client throws(DockerError) in
            let response: HTTPResponse
            do {
                response = try client.streamLines(request) { line in
                    guard line.contains(where: { $0 > 0x20 }) else { return .continue }
                    let message: PullProgress
                    do {
                        message = try JSONDecoder().decode(PullProgress.self, from: Data(line))
                    } catch {
                        throw DockerError(
                            kind: .protocolViolation, operation: operation, subject: subject,
                            message: "unreadable progress message: \(String(decoding: line.prefix(200), as: UTF8.self))")
                    }
                    if let error = message.error {
                        throw DockerError(kind: .stream, operation: operation, subject: subject, status: 200, message: error)
                    }
                    last = message
                    onProgress?(message)
                    return .continue
                }
            } catch {
                throw Self.mapError(error, operation: operation, subject: subject)
            }
            guard response.isSuccess else {
                throw Self.daemonError(response, operation: operation, subject: subject)
            }
        }
        return last
    }

    // MARK: - Containers

    /// `POST /containers/create?name=…`. Never pulls: a missing image is a 404 error.
    /// - Returns: The id and the daemon's warnings (settings it dropped); log the warnings.
    public func createContainer(_ spec: ContainerSpec) throws(DockerError) -> CreatedContainer {
        let operation = "create container"
        let body = try Self.encode(ContainerCreateBody(spec: spec), operation: operation, subject: spec.name)
        let response = try perform(
            .post, "/containers/create", query: [("name", spec.name)], body: body,
            headers: ["Content-Type": "application/json"], operation: operation, subject: spec.name, accept: [201])
        return try Self.decode(CreatedContainer.self, response, operation: operation, subject: spec.name)
    }

    /// `POST /containers/{id}/start`.
    /// - Returns: `false` if the container was already running (304), `true` otherwise.
    @discardableResult
    public func startContainer(_ container: String) throws(DockerError) -> Bool {
        let response = try perform(
            .post, "/containers/\(escapePath(container))/start", operation: "start container",
            subject: container, accept: [204, 304])
        return response.status == 204
    }

    /// `POST /containers/{id}/stop?t=…`: SIGTERM (or the image's stop signal), then SIGKILL after
    /// `timeout`. Blocks until the container stopped.
    /// - Returns: `false` if it was already stopped (304).
    @discardableResult
    public func stopContainer(_ container: String, timeout: Duration = .seconds(10)) throws(DockerError) -> Bool {
        let seconds = max(0, Int((Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18).rounded(.up)))
        let response = try perform(
            .post, "/containers/\(escapePath(container))/stop", query: [("t", String(seconds))],
            timeout: timeout + configuration.requestTimeout, operation: "stop container", subject: container,
            accept: [204, 304])
        return response.status == 204
    }

    /// `POST /containers/{id}/kill?signal=…`.
    /// - Throws: ``DockerError`` with ``DockerError/isConflict`` when the container is not running.
    public func killContainer(_ container: String, signal: String = "SIGKILL") throws(DockerError) {
        _ = try perform(
            .post, "/containers/\(escapePath(container))/kill", query: [("signal", signal)],
            operation: "kill container", subject: container, accept: [204])
    }

    /// `POST /containers/{id}/wait?condition=…`: blocks until the condition holds.
    /// - Parameter timeout: How long to wait at most (the request then fails with a timeout).
    public func waitContainer(
        _ container: String, condition: WaitCondition = .notRunning, timeout: Duration = .seconds(3600)
    ) throws(DockerError) -> ContainerWaitResult {
        let operation = "wait for container"
        let response = try perform(
            .post, "/containers/\(escapePath(container))/wait", query: [("condition", condition.rawValue)],
            timeout: timeout, operation: operation, subject: container, accept: [200])
        return try Self.decode(ContainerWaitResult.self, response, operation: operation, subject: container)
    }

    /// `DELETE /containers/{id}?force=…&v=…`.
    /// - Parameters:
    ///   - force: Kill a running container first.
    ///   - removeVolumes: Also remove its anonymous volumes.
    public func removeContainer(_ container: String, force: Bool = true, removeVolumes: Bool = true) throws(DockerError) {
        _ = try perform(
            .delete, "/containers/\(escapePath(container))",
            query: [("force", force ? "1" : "0"), ("v", removeVolumes ? "1" : "0")],
            operation: "remove container", subject: container, accept: [204])
    }

    /// `POST /containers/{id}/update`: changes the CPUs and memory nodes of a created or
    /// running container (what a scheduler's placement needs); nil leaves a value as it is.
    public func updateContainer(_ container: String, cpusetCpus: String?, cpusetMems: String? = nil) throws(DockerError) {
        var members: [String] = []
        if let cpusetCpus { members.append("\"CpusetCpus\":\"\(cpusetCpus)\"") }
        if let cpusetMems { members.append("\"CpusetMems\":\"\(cpusetMems)\"") }
        guard !members.isEmpty else { return }
        _ = try perform(
            .post, "/containers/\(escapePath(container))/update", body: Array("{\(members.joined(separator: ","))}".utf8),
            headers: ["Content-Type": "application/json"], operation: "update container", subject: container, accept: [200])
    }

    /// `GET /containers/{id}/json`: state (`Pid`, `StartedAt`, `ExitCode`), config and host config.
    public func inspectContainer(_ container: String) throws(DockerError) -> ContainerInspect {
        let operation = "inspect container"
        let response = try perform(
            .get, "/containers/\(escapePath(container))/json", operation: operation, subject: container,
            accept: [200])
        return try Self.decode(ContainerInspect.self, response, operation: operation, subject: container)
    }

    /// `GET /containers/json?all=…&filters={"label":[…]}`.
    /// - Parameters:
    ///   - labels: Label filters, `key` or `key=value`; all must match.
    ///   - all: Include stopped containers.
    public func listContainers(labels: [String] = [], all: Bool = true) throws(DockerError) -> [ContainerSummary] {
        let operation = "list containers"
        var query = [("all", all ? "1" : "0")]
        if !labels.isEmpty {
            query.append(("filters", try Self.filtersJSON(["label": labels], operation: operation)))
        }
        let response = try perform(.get, "/containers/json", query: query, operation: operation, accept: [200])
        return try Self.decode([ContainerSummary].self, response, operation: operation, subject: nil)
    }

    /// `GET /containers/{id}/logs`: everything the container wrote so far, demultiplexed.
    /// - Parameters:
    ///   - stdout: Include stdout.
    ///   - stderr: Include stderr.
    ///   - tail: Only the last N lines; `nil` for all.
    ///   - tty: Whether the container has a TTY (output not multiplexed); `nil` inspects it.
    public func logs(
        _ container: String, stdout: Bool = true, stderr: Bool = true, tail: Int? = nil, tty: Bool? = nil
    ) throws(DockerError) -> ContainerOutput {
        let operation = "read logs of container"
        let isTTY: Bool
        if let tty { isTTY = tty } else { isTTY = try inspectContainer(container).config.tty }
        let response = try perform(
            .get, "/containers/\(escapePath(container))/logs",
            query: [
                ("stdout", stdout ? "1" : "0"), ("stderr", stderr ? "1" : "0"),
                ("tail", tail.map(String.init) ?? "all"),
            ],
            operation: operation, subject: container, accept: [200])
        if isTTY { return ContainerOutput(frames: [OutputFrame(stream: .stdout, bytes: response.body)]) }
        do {
            var demux = StreamDemultiplexer()
            let frames = try demux.feed(response.body)
            try demux.finish()
            return ContainerOutput(frames: frames)
        } catch {
            throw DockerError(kind: .protocolViolation, operation: operation, subject: container, message: error.message)
        }
    }

    // MARK: - Exec

    /// `POST /containers/{id}/exec`: creates an exec instance (stdout and stderr attached).
    /// - Returns: The exec id.
    public func createExec(container: String, spec: ExecSpec) throws(DockerError) -> String {
        struct Created: Decodable {
            var id: String
            enum CodingKeys: String, CodingKey { case id = "Id" }
        }
        let operation = "create exec in container"
        let body = try Self.encode(spec, operation: operation, subject: container)
        let response = try perform(
            .post, "/containers/\(escapePath(container))/exec", body: body,
            headers: ["Content-Type": "application/json"], operation: operation, subject: container, accept: [201])
        return try Self.decode(Created.self, response, operation: operation, subject: container).id
    }

    /// `POST /exec/{id}/start` with `Detach: true`: starts it and returns at once.
    /// Poll ``inspectExec(_:)`` or call ``waitForExec(_:timeout:)`` for the exit code.
    public func startExec(_ execID: String) throws(DockerError) {
        let body = Array(#"{"Detach":true,"Tty":false}"#.utf8)
        _ = try perform(
            .post, "/exec/\(escapePath(execID))/start", body: body, headers: ["Content-Type": "application/json"],
            operation: "start exec", subject: execID, accept: [200, 204])
    }

    /// `GET /exec/{id}/json`.
    public func inspectExec(_ execID: String) throws(DockerError) -> ExecInspect {
        let operation = "inspect exec"
        let response = try perform(
            .get, "/exec/\(escapePath(execID))/json", operation: operation, subject: execID, accept: [200])
        return try Self.decode(ExecInspect.self, response, operation: operation, subject: execID)
    }

    /// Polls ``inspectExec(_:)`` every 20 ms until the exec finished.
    /// - Returns: Its exit code.
    /// - Throws: ``DockerError`` when it is still running after `timeout`.
    public func waitForExec(_ execID: String, timeout: Duration = .seconds(60)) throws(DockerError) -> Int {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let state = try inspectExec(execID)
            if !state.running, let code = state.exitCode { return code }
            if clock.now >= deadline {
                throw DockerError(
                    kind: .transport, operation: "wait for exec", subject: execID,
                    message: "still running after \(timeout)")
            }
            usleep(20_000)
        }
    }

    /// Runs a command in a running container, attached, and waits for it:
    /// create, start (output streamed back and demultiplexed), then inspect for the exit code.
    public func exec(
        container: String, spec: ExecSpec, timeout: Duration = .seconds(60)
    ) throws(DockerError) -> ExecResult {
        let execID = try createExec(container: container, spec: spec)
        let operation = "run exec in container"
        let body = Array(#"{"Detach":false,"Tty":false}"#.utf8)
        let response = try perform(
            .post, "/exec/\(escapePath(execID))/start", body: body, headers: ["Content-Type": "application/json"],
            timeout: timeout, operation: operation, subject: container, accept: [200])
        var output = ContainerOutput()
        do {
            var demux = StreamDemultiplexer()
            output.frames = try demux.feed(response.body)
            try demux.finish()
        } catch {
            throw DockerError(kind: .protocolViolation, operation: operation, subject: container, message: error.message)
        }
        let code = try waitForExec(execID, timeout: .seconds(10))
        return ExecResult(id: execID, exitCode: code, output: output)
    }

    // MARK: - Events

    /// `GET /events?since=…&until=…&filters=…`: streams events to `onEvent` as they arrive.
    ///
    /// With `until` the stream ends by itself at that time (past events are replayed from
    /// `since`); without it, it runs until `onEvent` returns ``HTTPStreamControl/stop`` or
    /// `timeout` elapses (a `.transport` timeout error).
    /// - Parameters:
    ///   - since: Replay events from this time.
    ///   - until: End the stream at this time.
    ///   - filters: e.g. `["type": ["container"], "label": ["rdt4nn.benchmark=42"]]`.
    ///   - timeout: Total time allowed; defaults to until−now + the request timeout, or one hour.
    ///   - onEvent: Called for each event on the calling thread.
    public func events(
        since: DockerTimestamp? = nil,
        until: DockerTimestamp? = nil,
        filters: [String: [String]] = [:],
        timeout: Duration? = nil,
        onEvent: (DockerEvent) throws -> HTTPStreamControl
    ) throws(DockerError) {
        let operation = "stream events"
        var query: [(String, String)] = []
        if let since { query.append(("since", since.description)) }
        if let until { query.append(("until", until.description)) }
        if !filters.isEmpty { query.append(("filters", try Self.filtersJSON(filters, operation: operation))) }
        var total = timeout ?? .seconds(3600)
        if timeout == nil, let until {
            let remaining = until.nanosecondsSinceEpoch - DockerTimestamp.now().nanosecondsSinceEpoch
            total = .nanoseconds(max(0, remaining)) + configuration.requestTimeout
        }
        let request = HTTPRequest(path: versioned("/events", query), timeout: total)
        try withConnection { client throws(DockerError) in
            let response: HTTPResponse
            do {
                response = try client.streamLines(request) { line in
                    guard line.contains(where: { $0 > 0x20 }) else { return .continue }
                    let event: DockerEvent
                    do {
                        event = try JSONDecoder().decode(DockerEvent.self, from: Data(line))
                    } catch {
                        throw DockerError(
                            kind: .protocolViolation, operation: operation,
                            message: "unreadable event: \(String(decoding: line.prefix(200), as: UTF8.self))")
                    }
                    return try onEvent(event)
                }
            } catch {
                throw Self.mapError(error, operation: operation, subject: nil)
            }
            guard response.isSuccess else { throw Self.daemonError(response, operation: operation, subject: nil) }
        }
    }

    // MARK: - Plumbing

    /// `/v1.NN<path>?<query>`.
    private func versioned(_ path: String, _ query: [(String, String)] = []) -> String {
        "/v\(apiVersion)" + path + Self.queryString(query)
    }

    private static func queryString(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        return "?" + query.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&")
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters.
    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    private func escapePath(_ component: String) -> String { Self.percentEncode(component) }

    private static func filtersJSON(_ filters: [String: [String]], operation: String) throws(DockerError) -> String {
        String(decoding: try encode(filters, operation: operation, subject: nil), as: UTF8.self)
    }

    private func perform(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil,
        headers: HTTPHeaders = HTTPHeaders(), versioned isVersioned: Bool = true, timeout: Duration? = nil,
        operation: String, subject: String? = nil, accept: Set<Int>
    ) throws(DockerError) -> HTTPResponse {
        let fullPath = isVersioned ? versioned(path, query) : path + Self.queryString(query)
        let request = HTTPRequest(method: method, path: fullPath, headers: headers, body: body, timeout: timeout)
        return try Self.send(pool: pool, request, operation: operation, subject: subject, accept: accept)
    }

    private static func send(
        pool: ConnectionPool, _ request: HTTPRequest, operation: String, subject: String?, accept: Set<Int>
    ) throws(DockerError) -> HTTPResponse {
        let client: HTTPClient
        do { client = try pool.checkOut() } catch { throw mapError(error, operation: operation, subject: subject) }
        defer { pool.checkIn(client) }
        let response: HTTPResponse
        do { response = try client.send(request) } catch { throw mapError(error, operation: operation, subject: subject) }
        guard accept.contains(response.status) else {
            throw daemonError(response, operation: operation, subject: subject)
        }
        return response
    }

    private func withConnection(_ body: (HTTPClient) throws(DockerError) -> Void) throws(DockerError) {
        let client: HTTPClient
        do { client = try pool.checkOut() } catch { throw Self.mapError(error, operation: "connect", subject: nil) }
        defer { pool.checkIn(client) }
        try body(client)
    }

    private static func mapError(_ error: any Error, operation: String, subject: String?) -> DockerError {
        if let error = error as? DockerError { return error }
        if let error = error as? HTTPClientError {
            return DockerError(
                kind: .transport, operation: operation, subject: subject, message: error.description, transport: error)
        }
        return DockerError(kind: .stream, operation: operation, subject: subject, message: "\(error)")
    }

    /// The daemon's `{"message": …}`, or the body text, or the status.
    static func daemonError(_ response: HTTPResponse, operation: String, subject: String?) -> DockerError {
        struct Message: Decodable { var message: String }
        var text = (try? JSONDecoder().decode(Message.self, from: Data(response.body)))?.message
            ?? response.bodyText.trimmingWhitespaceAndNewlines()
        if text.isEmpty { text = "HTTP status \(response.status)" }
        return DockerError(kind: .daemon, operation: operation, subject: subject, status: response.status, message: text)
    }

    private static func decode<T: Decodable>(
        _ type: T.Type, _ response: HTTPResponse, operation: String, subject: String?
    ) throws(DockerError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(response.body))
        } catch {
            throw DockerError(
                kind: .protocolViolation, operation: operation, subject: subject, status: response.status,
                message: "unexpected answer (\(error)): \(String(response.bodyText.prefix(300)))")
        }
    }

    private static func encode<T: Encodable>(_ value: T, operation: String, subject: String?) throws(DockerError) -> [UInt8] {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return Array(try encoder.encode(value))
        } catch {
            throw DockerError(kind: .invalidArgument, operation: operation, subject: subject, message: "\(error)")
        }
    }
}

extension DockerTimestamp {
    /// The realtime clock now.
    public static func now() -> DockerTimestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return DockerTimestamp(nanosecondsSinceEpoch: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }
}
