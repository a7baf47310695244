import ArgumentParsing
import InfluxWrite
import ResultsUpload

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// `rdt4nn upload results/<id> --to URL ...`: replays a results directory into InfluxDB.
struct UploadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload",
        abstract: "Load a results directory's samples (metrics.lp[.gz] and spool files) into InfluxDB.",
        discussion: """
            Sends metrics.lp (or metrics.lp.gz) and every spool-*.jsonl of the directory
            in batches, retrying while the server is unavailable. Uploading twice is
            safe: every point keeps its timestamp, so InfluxDB overwrites it with itself.
            Version 1 (default with --database) writes to /write; version 2 (default with
            --bucket or --org) to /api/v2/write. The password and token may also come from
            the environment: INFLUX_PASSWORD, INFLUX_TOKEN.
            """,
        arguments: [
            .positional("directory", help: "The results directory (results/<benchmark id>)."),
            .option("to", valueName: "url", help: "InfluxDB base URL, e.g. http://127.0.0.1:8086.", required: true),
            .option("database", valueName: "name", help: "Version 1: the database (created when missing unless --no-create-database)."),
            .option("retention-policy", valueName: "name", help: "Version 1: the retention policy (default: the database's default)."),
            .option("bucket", valueName: "name", help: "Version 2: the bucket."),
            .option("org", valueName: "name", help: "Version 2: the organisation."),
            .option("token", valueName: "token", help: "API token (Authorization: Token); default $INFLUX_TOKEN."),
            .option("username", valueName: "name", help: "User name (with --password)."),
            .option("password", valueName: "password", help: "Password of --username; default $INFLUX_PASSWORD."),
            .option("version", valueName: "1|2", help: "Write API version (default: 2 with --bucket/--org, else 1)."),
            .option("batch-size", valueName: "lines", help: "Lines per request.", default: "5000"),
            .option("timeout-ms", valueName: "ms", help: "Timeout of each request.", default: "5000"),
            .flag("gzip", help: "Compress request bodies (the default unless the server is on this machine)."),
            .flag("no-gzip", help: "Send request bodies uncompressed (the default for localhost, 127.0.0.0/8, ::1)."),
            .flag("no-create-database", help: "Version 1: fail when the database does not exist instead of creating it."),
        ]
    )

    let directory: String
    let settings: InfluxSettings
    let batchSize: Int

    init(arguments: ParsedArguments) throws(UsageError) {
        directory = arguments.value("directory") ?? ""
        let environment = { (name: String) -> String? in getenv(name).map { String(cString: $0) } }
        var version: InfluxSettings.APIVersion = arguments.value("bucket") != nil || arguments.value("org") != nil ? .v2 : .v1
        if arguments.value("version") != nil {
            let number = try arguments.integer("version", in: 1...2, default: 1)
            version = number == 2 ? .v2 : .v1
        }
        let username = arguments.value("username")
        if arguments.flag("gzip") && arguments.flag("no-gzip") {
            throw UsageError("--gzip and --no-gzip contradict each other; give one")
        }
        let url = arguments.value("to") ?? ""
        settings = InfluxSettings(
            version: version,
            url: url,
            database: arguments.value("database"),
            bucket: arguments.value("bucket"),
            org: arguments.value("org"),
            username: username,
            password: arguments.value("password") ?? (username != nil ? environment("INFLUX_PASSWORD") : nil),
            token: arguments.value("token") ?? (username == nil ? environment("INFLUX_TOKEN") : nil),
            retentionPolicy: arguments.value("retention-policy"),
            gzip: arguments.flag("no-gzip") ? false : arguments.flag("gzip") || InfluxSettings.defaultGzip(url: url),
            timeoutMilliseconds: try arguments.integer("timeout-ms", in: 1...600_000, default: 5_000),
            createDatabase: !arguments.flag("no-create-database")
        )
        batchSize = try arguments.integer("batch-size", in: 1...1_000_000, default: 5_000)
        do {
            try settings.validate()
        } catch {
            throw UsageError(Self.optionNames(error.message))
        }
    }

    /// Speaks of command-line options instead of the sink's configuration keys.
    static func optionNames(_ message: String) -> String {
        var text = message
        for (key, option) in [("'url'", "--to"), ("'database'", "--database"), ("'bucket'", "--bucket"), ("'org'", "--org"),
                              ("'username'", "--username"), ("'password'", "--password"), ("'token'", "--token"),
                              ("'retention_policy'", "--retention-policy"), ("'timeout_ms'", "--timeout-ms"),
                              ("'create_database' is false", "--no-create-database was given"),
                              ("or allow create_database", "or leave out --no-create-database"),
                              ("version 1", "--version 1"), ("version 2", "--version 2"), ("version: 2", "--version 2")] {
            text = text.split(separator: key, omittingEmptySubsequences: false).joined(separator: option)
        }
        return text
    }

    func run() throws -> ExitCode {
        let uploader: ResultsUploader
        do {
            uploader = try ResultsUploader(settings: settings, batchSize: batchSize)
        } catch {
            printError("error: \(error.message)")
            return .failure
        }
        var display = ProgressDisplay(interactive: isatty(STDERR_FILENO) == 1)
        let summary: UploadSummary
        do {
            summary = try uploader.upload(directory: directory) { display.show($0) }
            display.finish()
        } catch {
            display.finish()
            printError("error: \(error.message)")
            printError("before the failure: \(Self.describe(error.summary))")
            return .failure
        }
        print("Uploaded \(directory) to InfluxDB \(settings.targetDescription): \(Self.describe(summary))")
        if summary.rejected > 0 {
            printError("warning: \(summary.rejected) point(s) were rejected and are not in InfluxDB; first reasons:")
            for reason in summary.rejectReasons { printError("  \(reason)") }
        }
        return .success
    }

    static func describe(_ summary: UploadSummary) -> String {
        let files = summary.files.map { ($0.path.split(separator: "/").last.map(String.init) ?? $0.path) }.joined(separator: ", ")
        return "\(summary.written) point(s) written, \(summary.rejected) rejected, from \(files.isEmpty ? "no files" : files) "
            + "(\(summary.requests) request(s), \(summary.retries) retr\(summary.retries == 1 ? "y" : "ies"))"
    }
}

/// A progress bar on a terminal (redrawn at most 10 times a second), or a
/// plain line every 10 % otherwise; both on standard error.
struct ProgressDisplay {
    let interactive: Bool
    private var lastDrawNs: Int64 = 0
    private var lastDecile = -1
    private var drawn = false

    init(interactive: Bool) { self.interactive = interactive }

    mutating func show(_ progress: UploadProgress) {
        let fraction = progress.totalBytes > 0 ? min(1, Double(progress.bytesRead) / Double(progress.totalBytes)) : 1
        let percent = Int(fraction * 100)
        let file = progress.file.split(separator: "/").last.map(String.init) ?? progress.file
        let rejected = progress.rejected > 0 ? ", \(progress.rejected) rejected" : ""
        if interactive {
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let nowNs = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
            guard nowNs - lastDrawNs >= 100_000_000 || fraction >= 1 else { return }
            lastDrawNs = nowNs
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            let text = "\r[\(bar)] \(String(repeating: " ", count: max(0, 3 - String(percent).count)))\(percent)%  \(progress.points) points\(rejected)  \(file)\u{1B}[K"
            fputs(text, stderr)
            drawn = true
        } else {
            let decile = percent / 10
            guard decile != lastDecile else { return }
            lastDecile = decile
            fputs("upload: \(percent)% (\(progress.points) points\(rejected), \(file))\n", stderr)
        }
    }

    mutating func finish() {
        if interactive && drawn { fputs("\n", stderr) }
        drawn = false
    }
}
