import Foundation
import HTTPClient
import InfluxWrite
import PluginABI
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A private influxd (1.x) for a test: free 127.0.0.1 ports, its own data,
/// meta and WAL directories, every listener on 127.0.0.1, reporting off.
/// It can be paused (SIGSTOP), killed and restarted on the same ports and
/// data, and is removed by ``stop()``.
///
/// Shared by every test that needs a real InfluxDB (the encoder's round trip,
/// the influx sink, upload); talks to the server through the synchronous
/// `HTTPClient`.
public final class InfluxdProcess {
    /// The influxd to run: `$INFLUXD`, else `influxd` on `PATH`, else nil.
    public static let executable: String? = {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["INFLUXD"], FileManager.default.isExecutableFile(atPath: path) { return path }
        for directory in (environment["PATH"] ?? "/usr/bin:/usr/sbin").split(separator: ":") {
            let path = "\(directory)/influxd"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }()

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// `http://127.0.0.1:<port>`.
    public let baseURL: String
    public let directory: String
    private let configPath: String
    private var process: Process?
    private let client: HTTPClient

    /// Starts influxd and waits for `/ping`.
    /// - Parameter authEnabled: `[http] auth-enabled = true` (create a user with ``createAdmin(_:password:)``).
    public init(authEnabled: Bool = false) throws {
        guard let executable = Self.executable else { throw Failure(description: "influxd is not installed") }
        directory = NSTemporaryDirectory() + "rdt4nn-influxd-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let (httpPort, rpcPort) = try Self.twoFreePorts()
        baseURL = "http://127.0.0.1:\(httpPort)"
        configPath = directory + "/influxd.conf"
        let config = """
            reporting-enabled = false
            bind-address = "127.0.0.1:\(rpcPort)"
            [meta]
              dir = "\(directory)/meta"
              logging-enabled = false
            [data]
              dir = "\(directory)/data"
              wal-dir = "\(directory)/wal"
              query-log-enabled = false
            [monitor]
              store-enabled = false
            [http]
              enabled = true
              bind-address = "127.0.0.1:\(httpPort)"
              auth-enabled = \(authEnabled)
              log-enabled = false
              pprof-enabled = false
            [logging]
              level = "warn"
              suppress-logo = true
            [continuous_queries]
              enabled = false
            [retention]
              enabled = false
            [shard-precreation]
              enabled = false
            [subscriber]
              enabled = false
            [[graphite]]
              enabled = false
            [[collectd]]
              enabled = false
            [[opentsdb]]
              enabled = false
            [[udp]]
              enabled = false

            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        client = try HTTPClient(transport: .tcp(baseURL: baseURL), timeouts: HTTPTimeouts(connect: .seconds(5), total: .seconds(30)))
        try launch(executable)
    }

    deinit { stop() }

    private func launch(_ executable: String) throws {
        let logPath = directory + "/influxd.log"
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["run", "-config", configPath]
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            if !process.isRunning { throw Failure(description: "influxd exited during start-up:\n\(self.log)") }
            if let response = try? client.send(HTTPRequest(method: .get, path: "/ping", timeout: .seconds(1))), response.status == 204 { return }
            if ContinuousClock.now > deadline {
                stop()
                throw Failure(description: "influxd did not answer /ping within 30 s:\n\(self.log)")
            }
            usleep(50_000)
        }
    }

    /// influxd's own output so far.
    public var log: String { (try? String(contentsOfFile: directory + "/influxd.log", encoding: .utf8)) ?? "" }

    /// The process id (0 when not running).
    public var pid: Int32 { process?.isRunning == true ? process!.processIdentifier : 0 }

    /// SIGSTOP: the server keeps its sockets but answers nothing.
    public func pause() { if pid > 0 { kill(pid, SIGSTOP) } }

    /// SIGCONT.
    public func resume() { if pid > 0 { kill(pid, SIGCONT) } }

    /// SIGKILL, keeping the data directory (acknowledged writes are in the WAL).
    public func kill9() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Starts influxd again on the same ports and data.
    public func restart() throws {
        kill9()
        try launch(Self.executable!)
    }

    /// Stops influxd and deletes its directories.
    public func stop() {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGCONT)
            process.terminate()
            process.waitUntilExit()
        }
        process = nil
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Sends any request; `query` items are percent-encoded.
    /// - Returns: the status and the raw body.
    public func request(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil) throws -> (status: Int, body: [UInt8]) {
        let encoded = query.map { "\($0.0)=\(InfluxSettings.percentEncoded($0.1))" }.joined(separator: "&")
        let response = try client.send(HTTPRequest(method: method, path: encoded.isEmpty ? path : path + "?" + encoded, body: body))
        return (response.status, response.body)
    }

    /// Runs an InfluxQL statement with POST /query; returns the parsed JSON (statement errors are thrown).
    @discardableResult
    public func execute(_ statement: String, database: String? = nil, username: String? = nil, password: String? = nil) throws -> JSONValue {
        try query(statement, database: database, method: .post, username: username, password: password)
    }

    /// Runs an InfluxQL query (GET /query, epoch=ns).
    public func query(_ statement: String, database: String? = nil, method: HTTPMethod = .get, username: String? = nil, password: String? = nil) throws -> JSONValue {
        var path = "/query?epoch=ns&q=" + InfluxSettings.percentEncoded(statement)
        if let database { path += "&db=" + InfluxSettings.percentEncoded(database) }
        if let username, let password {
            path += "&u=" + InfluxSettings.percentEncoded(username) + "&p=" + InfluxSettings.percentEncoded(password)
        }
        let response = try client.send(HTTPRequest(method: method, path: path, body: method == .post ? [] : nil))
        guard response.status == 200 else { throw Failure(description: "\(statement): HTTP \(response.status) \(response.bodyText)") }
        let json = try JSONValue.parse(response.bodyText)
        if let error = json["results"]?.arrayValue?.first?["error"]?.stringValue {
            throw Failure(description: "\(statement): \(error)")
        }
        return json
    }

    /// `SELECT COUNT("field") FROM "measurement"` over all time: the exact number of points that have the field.
    public func count(_ field: String, in measurement: String, database: String, username: String? = nil, password: String? = nil) throws -> Int {
        let json = try query("SELECT COUNT(\"\(field)\") FROM \"\(measurement)\"", database: database, username: username, password: password)
        guard let values = json["results"]?.arrayValue?.first?["series"]?.arrayValue?.first?["values"]?.arrayValue?.first?.arrayValue,
              values.count >= 2, let count = values[1].doubleValue else { return 0 }
        return Int(count)
    }

    /// Two distinct free TCP ports on 127.0.0.1 (both held until both are known).
    private static func twoFreePorts() throws -> (UInt16, UInt16) {
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        var ports: [UInt16] = []
        for _ in 0..<2 {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
            sockets.append(descriptor)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = 0
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                    bind(descriptor, raw, length) == 0 && getsockname(descriptor, raw, &length) == 0
                }
            }
            guard bound else { throw Failure(description: "bind() failed: errno \(errno)") }
            ports.append(UInt16(bigEndian: address.sin_port))
        }
        return (ports[0], ports[1])
    }
}
