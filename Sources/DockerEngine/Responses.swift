/// `GET /version`.
public struct DockerVersion: Sendable, Hashable, Decodable {
    /// Engine version, e.g. `20.10.24+dfsg1`.
    public var version: String
    /// The newest API version the daemon speaks.
    public var apiVersion: String
    /// The oldest API version the daemon accepts.
    public var minAPIVersion: String?
    /// `linux`.
    public var os: String?
    /// `amd64`.
    public var arch: String?
    /// Host kernel.
    public var kernelVersion: String?

    enum CodingKeys: String, CodingKey {
        case version = "Version", apiVersion = "ApiVersion", minAPIVersion = "MinAPIVersion"
        case os = "Os", arch = "Arch", kernelVersion = "KernelVersion"
    }
}

/// `GET /_ping`.
public struct DockerPing: Sendable, Hashable {
    /// The body, `OK`.
    public var body: String
    /// The `Api-Version` header: the daemon's newest API version.
    public var apiVersion: String?
}

/// An RFC 3339 timestamp from the daemon, kept to the nanosecond.
public struct DockerTimestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Nanoseconds since the Unix epoch.
    public var nanosecondsSinceEpoch: Int64

    /// Creates a timestamp.
    public init(nanosecondsSinceEpoch: Int64) {
        self.nanosecondsSinceEpoch = nanosecondsSinceEpoch
    }

    /// Parses `2024-01-02T03:04:05.123456789Z` or with a `±hh:mm` offset. Returns `nil` for
    /// malformed text and for Docker's "never" value, `0001-01-01T00:00:00Z`.
    public init?(rfc3339 text: String) {
        let b = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int64? {
            guard from + count <= b.count else { return nil }
            var value: Int64 = 0
            for i in from..<(from + count) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                value = value * 10 + Int64(b[i] - 48)
            }
            return value
        }
        guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"), b[13] == UInt8(ascii: ":"),
            b[16] == UInt8(ascii: ":"),
            let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
            let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        if year <= 1 { return nil }
        var i = 19
        var nanos: Int64 = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if digits < 9 {
                    nanos = nanos * 10 + Int64(b[i] - 48)
                    digits += 1
                }
                i += 1
            }
            guard digits > 0 else { return nil }
            while digits < 9 {
                nanos *= 10
                digits += 1
            }
        }
        guard i < b.count else { return nil }
        var offsetSeconds: Int64 = 0
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            guard i + 1 == b.count else { return nil }
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            guard i + 6 == b.count, b[i + 3] == UInt8(ascii: ":"),
                let oh = number(i + 1, 2), let om = number(i + 4, 2)
            else { return nil }
            offsetSeconds = (oh * 3600 + om * 60) * (b[i] == UInt8(ascii: "+") ? 1 : -1)
        } else {
            return nil
        }
        // Days from civil (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        self.nanosecondsSinceEpoch = seconds * 1_000_000_000 + nanos
    }

    /// Orders by time.
    public static func < (lhs: DockerTimestamp, rhs: DockerTimestamp) -> Bool {
        lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
    }

    /// Seconds since the epoch with nine decimals.
    public var description: String {
        let ns = nanosecondsSinceEpoch
        let fraction = String(ns % 1_000_000_000)
        return "\(ns / 1_000_000_000).\(String(repeating: "0", count: 9 - fraction.count))\(fraction)"
    }
}

/// `State` of an inspected container.
public struct ContainerState: Sendable, Hashable, Decodable {
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`.
    public var status: String
    /// Whether it runs.
    public var running: Bool
    /// Killed by the OOM killer.
    public var oomKilled: Bool
    /// Host PID of the main process, 0 when not running.
    public var pid: Int
    /// Exit code of the last run.
    public var exitCode: Int
    /// Docker's error for the last start, if any.
    public var error: String
    /// Raw `StartedAt` (RFC 3339, `0001-01-01T00:00:00Z` = never).
    public var startedAt: String
    /// Raw `FinishedAt`.
    public var finishedAt: String

    /// `StartedAt` parsed; `nil` if never started.
    public var startedAtTimestamp: DockerTimestamp? { DockerTimestamp(rfc3339: startedAt) }
    /// `FinishedAt` parsed; `nil` if never finished.
    public var finishedAtTimestamp: DockerTimestamp? { DockerTimestamp(rfc3339: finishedAt) }

    enum CodingKeys: String, CodingKey {
        case status = "Status", running = "Running", oomKilled = "OOMKilled", pid = "Pid"
        case exitCode = "ExitCode", error = "Error", startedAt = "StartedAt", finishedAt = "FinishedAt"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        status = try c.decodeIfPresent(String.self, forKey: .status) ?? ""
        running = try c.decodeIfPresent(Bool.self, forKey: .running) ?? false
        oomKilled = try c.decodeIfPresent(Bool.self, forKey: .oomKilled) ?? false
        pid = try c.decodeIfPresent(Int.self, forKey: .pid) ?? 0
        exitCode = try c.decodeIfPresent(Int.self, forKey: .exitCode) ?? 0
        error = try c.decodeIfPresent(String.self, forKey: .error) ?? ""
        startedAt = try c.decodeIfPresent(String.self, forKey: .startedAt) ?? ""
        finishedAt = try c.decodeIfPresent(String.self, forKey: .finishedAt) ?? ""
    }
}

/// `Config` of an inspected container (the parts rdt4nn reads).
public struct ContainerConfigInfo: Sendable, Hashable, Decodable {
    /// The image as given on create.
    public var image: String
    /// `Cmd`.
    public var command: [String]?
    /// `Entrypoint`.
    public var entrypoint: [String]?
    /// `Env`.
    public var environment: [String]
    /// `Labels`.
    public var labels: [String: String]
    /// `Tty`.
    public var tty: Bool

    enum CodingKeys: String, CodingKey {
        case image = "Image", command = "Cmd", entrypoint = "Entrypoint", environment = "Env"
        case labels = "Labels", tty = "Tty"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        image = try c.decodeIfPresent(String.self, forKey: .image) ?? ""
        command = try c.decodeIfPresent([String].self, forKey: .command)
        entrypoint = try c.decodeIfPresent([String].self, forKey: .entrypoint)
        environment = try c.decodeIfPresent([String].self, forKey: .environment) ?? []
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        tty = try c.decodeIfPresent(Bool.self, forKey: .tty) ?? false
    }
}

/// `GET /containers/{id}/json`.
public struct ContainerInspect: Sendable, Hashable, Decodable {
    /// Full 64-hex id.
    public var id: String
    /// Name without the leading `/`.
    public var name: String
    /// Image id (`sha256:…`).
    public var image: String
    /// Runtime state: `Pid`, `StartedAt`, `ExitCode`, …
    public var state: ContainerState
    /// Creation config.
    public var config: ContainerConfigInfo
    /// The host configuration as applied.
    public var hostConfig: HostConfig

    enum CodingKeys: String, CodingKey {
        case id = "Id", name = "Name", image = "Image", state = "State", config = "Config"
        case hostConfig = "HostConfig"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        let rawName = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        name = rawName.hasPrefix("/") ? String(rawName.dropFirst()) : rawName
        image = try c.decodeIfPresent(String.self, forKey: .image) ?? ""
        state = try c.decode(ContainerState.self, forKey: .state)
        config = try c.decode(ContainerConfigInfo.self, forKey: .config)
        hostConfig = try c.decodeIfPresent(HostConfig.self, forKey: .hostConfig) ?? HostConfig()
    }
}

/// One entry of `GET /containers/json`.
public struct ContainerSummary: Sendable, Hashable, Decodable {
    /// Full id.
    public var id: String
    /// Names without the leading `/`.
    public var names: [String]
    /// Image as given on create.
    public var image: String
    /// `created`, `running`, `exited`, …
    public var state: String
    /// Human-readable status (`Up 2 seconds`).
    public var status: String
    /// Labels.
    public var labels: [String: String]

    enum CodingKeys: String, CodingKey {
        case id = "Id", names = "Names", image = "Image", state = "State", status = "Status", labels = "Labels"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        names = (try c.decodeIfPresent([String].self, forKey: .names) ?? []).map {
            $0.hasPrefix("/") ? String($0.dropFirst()) : $0
        }
        image = try c.decodeIfPresent(String.self, forKey: .image) ?? ""
        state = try c.decodeIfPresent(String.self, forKey: .state) ?? ""
        status = try c.decodeIfPresent(String.self, forKey: .status) ?? ""
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
    }
}

/// `GET /images/{name}/json` (the parts rdt4nn reads).
public struct ImageInspect: Sendable, Hashable, Decodable {
    /// `sha256:…`.
    public var id: String
    /// Tags pointing at the image.
    public var repoTags: [String]
    /// Size in bytes.
    public var size: Int64
    /// `amd64`.
    public var architecture: String
    /// `linux`.
    public var os: String

    enum CodingKeys: String, CodingKey {
        case id = "Id", repoTags = "RepoTags", size = "Size", architecture = "Architecture", os = "Os"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        repoTags = try c.decodeIfPresent([String].self, forKey: .repoTags) ?? []
        size = try c.decodeIfPresent(Int64.self, forKey: .size) ?? 0
        architecture = try c.decodeIfPresent(String.self, forKey: .architecture) ?? ""
        os = try c.decodeIfPresent(String.self, forKey: .os) ?? ""
    }
}

/// `POST /containers/create` answer.
public struct CreatedContainer: Sendable, Hashable, Decodable {
    /// Full id.
    public var id: String
    /// Settings the daemon dropped or adjusted (e.g. `… Weight discarded.`); log them.
    public var warnings: [String]

    enum CodingKeys: String, CodingKey { case id = "Id", warnings = "Warnings" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        warnings = try c.decodeIfPresent([String].self, forKey: .warnings) ?? []
    }
}

/// `POST /containers/{id}/wait` answer.
public struct ContainerWaitResult: Sendable, Hashable, Decodable {
    /// The exit code.
    public var statusCode: Int
    /// Docker's error while waiting, if any.
    public var errorMessage: String?

    enum CodingKeys: String, CodingKey { case statusCode = "StatusCode", error = "Error" }
    struct WaitError: Decodable {
        var message: String?
        enum CodingKeys: String, CodingKey { case message = "Message" }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        statusCode = try c.decode(Int.self, forKey: .statusCode)
        let message = try c.decodeIfPresent(WaitError.self, forKey: .error)?.message
        errorMessage = (message?.isEmpty ?? true) ? nil : message
    }
}

/// Which state `wait` waits for.
public enum WaitCondition: String, Sendable, Hashable {
    /// Returns at once if the container is not running.
    case notRunning = "not-running"
    /// Waits for the next exit (call before start to avoid a race).
    case nextExit = "next-exit"
    /// Waits until the container is removed.
    case removed = "removed"
}

/// `GET /exec/{id}/json` (the parts rdt4nn reads).
public struct ExecInspect: Sendable, Hashable, Decodable {
    /// Exec instance id.
    public var id: String
    /// Still running.
    public var running: Bool
    /// Exit code; `nil` while running or before start.
    public var exitCode: Int?
    /// Host PID, 0 when not running.
    public var pid: Int

    enum CodingKeys: String, CodingKey { case id = "ID", running = "Running", exitCode = "ExitCode", pid = "Pid" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeIfPresent(String.self, forKey: .id) ?? ""
        running = try c.decodeIfPresent(Bool.self, forKey: .running) ?? false
        exitCode = try c.decodeIfPresent(Int.self, forKey: .exitCode)
        pid = try c.decodeIfPresent(Int.self, forKey: .pid) ?? 0
    }
}

/// A command to run in a running container.
public struct ExecSpec: Sendable, Hashable, Encodable {
    /// The command and arguments.
    public var command: [String]
    /// Extra environment, `KEY=value`.
    public var environment: [String]
    /// User (`uid[:gid]` or name); `nil` for the container's.
    public var user: String?
    /// Run privileged.
    public var privileged: Bool
    /// Working directory; `nil` for the container's.
    public var workingDirectory: String?

    /// Creates an exec spec.
    public init(
        command: [String], environment: [String] = [], user: String? = nil, privileged: Bool = false,
        workingDirectory: String? = nil
    ) {
        self.command = command
        self.environment = environment
        self.user = user
        self.privileged = privileged
        self.workingDirectory = workingDirectory
    }

    enum CodingKeys: String, CodingKey {
        case command = "Cmd", environment = "Env", user = "User", privileged = "Privileged"
        case workingDirectory = "WorkingDir", attachStdout = "AttachStdout", attachStderr = "AttachStderr"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(command, forKey: .command)
        if !environment.isEmpty { try c.encode(environment, forKey: .environment) }
        try c.encodeIfPresent(user, forKey: .user)
        if privileged { try c.encode(true, forKey: .privileged) }
        try c.encodeIfPresent(workingDirectory, forKey: .workingDirectory)
        try c.encode(true, forKey: .attachStdout)
        try c.encode(true, forKey: .attachStderr)
    }
}

/// Result of ``DockerClient/exec(container:spec:timeout:)``.
public struct ExecResult: Sendable, Hashable {
    /// Exec instance id.
    public var id: String
    /// Exit code.
    public var exitCode: Int
    /// What the command wrote.
    public var output: ContainerOutput
}

/// One message of a pull or import progress stream.
public struct PullProgress: Sendable, Hashable, Decodable {
    /// `Pulling fs layer`, `Downloading`, `Status: Downloaded newer image for …`.
    public var status: String?
    /// Layer id.
    public var id: String?
    /// Legacy progress bar text.
    public var progress: String?
    /// Bytes done, when reported.
    public var current: Int64?
    /// Bytes in total, when reported.
    public var total: Int64?
    /// The error, when this message reports one (`error` or `errorDetail.message`).
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case status, id, progress, progressDetail, error, errorDetail
    }
    struct Detail: Decodable {
        var current: Int64?
        var total: Int64?
        var message: String?
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        status = try? c.decodeIfPresent(String.self, forKey: .status)
        id = try? c.decodeIfPresent(String.self, forKey: .id)
        progress = try? c.decodeIfPresent(String.self, forKey: .progress)
        let detail = try? c.decodeIfPresent(Detail.self, forKey: .progressDetail)
        current = detail?.current
        total = detail?.total
        let errorDetail = try? c.decodeIfPresent(Detail.self, forKey: .errorDetail)
        let errorText = (try? c.decodeIfPresent(String.self, forKey: .error)) ?? nil
        if let message = errorDetail?.message, !message.isEmpty {
            error = message
        } else if let errorText {
            error = errorText.isEmpty ? "unknown error" : errorText
        } else if c.contains(.errorDetail) || c.contains(.error) {
            error = "unknown error"
        } else {
            error = nil
        }
    }
}

/// One event of `GET /events`.
public struct DockerEvent: Sendable, Hashable, Decodable {
    /// `container`, `image`, `network`, …
    public var type: String
    /// `create`, `start`, `die`, `oom`, `destroy`, …
    public var action: String
    /// The object's id.
    public var actorID: String
    /// The object's attributes: `name`, `image`, `exitCode`, the container's labels, …
    public var attributes: [String: String]
    /// When it happened, nanoseconds since the epoch.
    public var timeNano: Int64

    enum CodingKeys: String, CodingKey { case type = "Type", action = "Action", actor = "Actor", time, timeNano }
    struct Actor: Decodable {
        var id: String?
        var attributes: [String: String]?
        enum CodingKeys: String, CodingKey { case id = "ID", attributes = "Attributes" }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decodeIfPresent(String.self, forKey: .type) ?? ""
        action = try c.decodeIfPresent(String.self, forKey: .action) ?? ""
        let actor = try c.decodeIfPresent(Actor.self, forKey: .actor)
        actorID = actor?.id ?? ""
        attributes = actor?.attributes ?? [:]
        if let nano = try c.decodeIfPresent(Int64.self, forKey: .timeNano) {
            timeNano = nano
        } else {
            timeNano = (try c.decodeIfPresent(Int64.self, forKey: .time) ?? 0) * 1_000_000_000
        }
    }
}
