#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Gzip
import HTTPClient
import PluginABI
import SystemSupport

/// Writes line protocol to InfluxDB 1.x (`/write`) or 2.x (`/api/v2/write`)
/// over one kept-alive HTTP connection, one request at a time, and works
/// out from the responses which lines were written, which were refused for
/// good and which must be sent again.
///
/// ## Responses (influxdb.md §2, §3, §5)
/// - 2xx: every line written.
/// - 413: the request is split in halves, sent in order, recursively; a single
///   line still too large is rejected.
/// - 400, 422 and other 4xx not listed: the lines the message blames (see
///   ``ErrorBody``) are rejected with InfluxDB's reason and the other lines are
///   **sent again**: a 1.x partial write reports only the first type conflict
///   and silently drops unparsable lines when a conflict is also present, and
///   a 2.x 400 writes nothing, so only a 204 proves a line stored. Resending is
///   idempotent (same series and timestamp: the point is overwritten with
///   itself). When the message blames no line, the request is bisected: each
///   half is resent until the bad lines are isolated; a single line that still
///   fails is rejected with the message.
/// - 401, 403: ``InfluxWriteError/Kind/permission``, naming database or bucket and user.
/// - 404 (database, bucket or org not found) and 500 `retention policy not found`:
///   ``InfluxWriteError/Kind/config``.
/// - 429, 503 (honouring `Retry-After`, seconds or HTTP date, capped at 600 s),
///   408, other 5xx, timeouts and connection errors: ``InfluxWriteError/Kind/retry``.
///
/// ## Bounds
/// One ``write(_:)`` makes at most ``maximumRequestsPerWrite`` requests.
/// Bisection goes depth first, left half first, so every request settles the
/// earliest unsettled lines first; when the budget runs out, the settled prefix
/// is reported and the rest is left for the next call (reported as `.retry`).
/// A batch of n lines with k lines blamed by nothing costs about k·log₂(n)
/// extra requests; lines the message names cost one extra request per response.
///
/// Not thread-safe (one HTTP connection): one writer per thread, as the sink's
/// calls are serialised.
public final class InfluxWriter {
    /// The settings (validated).
    public let settings: InfluxSettings
    /// Largest number of HTTP requests one ``write(_:)`` makes.
    public static let maximumRequestsPerWrite = 128

    private let client: HTTPClient
    private let authorization: String?
    private let writePath: String

    /// Checks the settings and creates the HTTP client (nothing is connected yet).
    /// - Throws: `.config` for invalid settings, `.fatal` when the HTTP client cannot be set up (https:// without libcurl).
    public init(settings: InfluxSettings) throws(InfluxWriteError) {
        try settings.validate()
        self.settings = settings
        let timeout = Duration.milliseconds(settings.timeoutMilliseconds)
        do {
            client = try HTTPClient(transport: .tcp(baseURL: settings.baseURL), timeouts: HTTPTimeouts(connect: timeout, total: timeout))
        } catch {
            throw InfluxWriteError(.fatal, error.description)
        }
        authorization = settings.authorization
        writePath = settings.writePath
    }

    // MARK: - Start

    /// Pings the server and, for v1, makes sure the database exists (creating
    /// it when ``InfluxSettings/createDatabase`` allows); for v2 checks that the
    /// bucket accepts writes with an empty request.
    /// - Throws: `.retry` when the server cannot be reached (the URL is named),
    ///   `.config` for a missing database or bucket, `.permission` for refused credentials.
    public func prepare() throws(InfluxWriteError) {
        let ping = try exchange(HTTPRequest(method: .get, path: "/ping"), purpose: "ping")
        guard ping.isSuccess else {
            throw classifyFailure(ping, purpose: "GET /ping")
        }
        if settings.version == .v1 && settings.createDatabase {
            try createDatabase()
        }
        // An empty write: answered 204 when the database/bucket exists and the
        // credentials may write, 404/401/403 otherwise; nothing is stored.
        let probe = try exchange(writeRequest(body: []), purpose: "write probe")
        if probe.isSuccess || probe.status == 400 { return }
        if settings.version == .v1, probe.status == 404, !settings.createDatabase {
            throw InfluxWriteError(
                .config,
                "InfluxDB \(settings.targetDescription) does not exist and 'create_database' is false: create it (CREATE DATABASE \"\(settings.database ?? "")\") or allow create_database",
                httpStatus: 404)
        }
        throw classifyFailure(probe, purpose: "write")
    }

    private func createDatabase() throws(InfluxWriteError) {
        let database = settings.database ?? ""
        let statement = "CREATE DATABASE \"" + database.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"") + "\""
        var request = HTTPRequest(method: .post, path: "/query", body: Array(("q=" + InfluxSettings.percentEncoded(statement)).utf8))
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        let response = try exchange(request, purpose: "CREATE DATABASE")
        let body = ErrorBody(body: response.body, headerMessage: response.headers["X-Influxdb-Error"])
        // /query answers 200 even for failed statements: look at results[0].error.
        var statementError: String?
        if response.isSuccess, let json = try? JSONValue.parse(response.bodyText) {
            statementError = json["results"]?.arrayValue?.first?["error"]?.stringValue
        }
        if response.isSuccess && statementError == nil { return }
        let reason = statementError ?? body.message
        if response.status == 401 || response.status == 403 || reason.contains("privilege") || reason.contains("authoriz") {
            // Not allowed to create: fine if the database exists (the write probe tells).
            let probe = try exchange(writeRequest(body: []), purpose: "write probe")
            if probe.isSuccess { return }
            if probe.status == 404 {
                throw InfluxWriteError(
                    .permission,
                    "InfluxDB \(settings.targetDescription) does not exist and \(settings.identityDescription) may not create it (\(settings.redacted(reason))); create it as an admin or use another database",
                    httpStatus: response.status)
            }
            throw classifyFailure(probe, purpose: "write")
        }
        if response.status >= 500 || response.status == 0 {
            throw InfluxWriteError(.retry, "CREATE DATABASE at \(settings.baseURL) failed: HTTP \(response.status) \(settings.redacted(reason))", httpStatus: response.status)
        }
        throw InfluxWriteError(.config, "cannot create InfluxDB \(settings.targetDescription): HTTP \(response.status) \(settings.redacted(reason))", httpStatus: response.status)
    }

    // MARK: - Writing

    /// Writes the batch; see the type's documentation for what each response does.
    public func write(_ batch: LineBatch) -> InfluxWriteReport {
        guard !batch.isEmpty else {
            return InfluxWriteReport(processedCount: 0, rejected: [], stop: nil, httpStatus: 0, requests: 0)
        }
        var state = WriteState(count: batch.count)
        let all = Array(0..<batch.count)
        state.stop = resolve(batch, all[...], &state)
        let processed = state.settled.firstIndex(of: false) ?? batch.count
        let rejected = state.reasons.keys.sorted().filter { $0 < processed }.map {
            InfluxWriteReport.RejectedLine(index: $0, reason: state.reasons[$0] ?? "")
        }
        return InfluxWriteReport(
            processedCount: processed, rejected: rejected, stop: processed < batch.count ? state.stop : nil,
            httpStatus: state.lastStatus, requests: state.requests)
    }

    private struct WriteState {
        var settled: [Bool]
        var reasons: [Int: String] = [:]
        var requests = 0
        var lastStatus = 0
        var stop: InfluxWriteError?

        init(count: Int) { settled = [Bool](repeating: false, count: count) }
    }

    /// Settles `indices` (ascending) in order; returns why it stopped early.
    private func resolve(_ batch: LineBatch, _ indices: ArraySlice<Int>, _ state: inout WriteState) -> InfluxWriteError? {
        guard !indices.isEmpty else { return nil }
        guard state.requests < Self.maximumRequestsPerWrite else {
            return InfluxWriteError(
                .retry,
                "isolating the lines InfluxDB refused took \(Self.maximumRequestsPerWrite) requests; the rest of the batch follows in the next write",
                httpStatus: state.lastStatus)
        }
        state.requests += 1
        let response: HTTPResponse
        do {
            response = try exchange(writeRequest(body: batch.body(for: indices)), purpose: "write")
        } catch {
            state.lastStatus = 0
            return error
        }
        state.lastStatus = response.status
        let status = response.status
        if (200..<300).contains(status) {
            for index in indices { state.settled[index] = true }
            return nil
        }
        func bisect() -> InfluxWriteError? {
            let middle = indices.startIndex + indices.count / 2
            if let stop = resolve(batch, indices[indices.startIndex..<middle], &state) { return stop }
            return resolve(batch, indices[middle..<indices.endIndex], &state)
        }
        if status == 413 {
            if indices.count == 1 {
                let index = indices[indices.startIndex]
                state.settled[index] = true
                state.reasons[index] = "line of \(batch.line(index).count + 1) bytes is larger than the server accepts (HTTP 413)"
                return nil
            }
            return bisect()
        }
        let isRejection = status == 400 || status == 422 || ((400..<500).contains(status) && ![401, 403, 404, 408, 429].contains(status))
        guard isRejection else { return classifyFailure(response, purpose: "write") }

        let body = ErrorBody(body: response.body, headerMessage: response.headers["X-Influxdb-Error"])
        let blamed = body.blamedLines(in: batch, indices: indices)
        if !blamed.isEmpty {
            var rest: [Int] = []
            for position in indices.indices {
                let index = indices[position]
                if let reason = blamed[position] {
                    state.settled[index] = true
                    state.reasons[index] = settings.redacted(reason)
                } else {
                    rest.append(index)
                }
            }
            return resolve(batch, rest[...], &state)
        }
        if indices.count == 1 {
            let index = indices[indices.startIndex]
            state.settled[index] = true
            state.reasons[index] = "HTTP \(status): " + settings.redacted(body.message.strippingDroppedCount())
            return nil
        }
        return bisect()
    }

    private func writeRequest(body: [UInt8]) throws(InfluxWriteError) -> HTTPRequest {
        var request = HTTPRequest(method: .post, path: writePath)
        request.headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        request.headers.add(name: "Accept", value: "application/json")
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        if settings.gzip && !body.isEmpty {
            do {
                // Large bodies (a backlog, an upload) are compressed on every CPU.
                request.body = try Gzip.compress(body, level: 1, parts: POSIXThread.onlineCPUs)
            } catch {
                throw InfluxWriteError(.fatal, "cannot compress the request: \(error)")
            }
            request.headers.add(name: "Content-Encoding", value: "gzip")
        } else {
            request.body = body
        }
        return request
    }

    // MARK: - HTTP

    /// Sends a request; transport failures become `.retry` errors naming the URL.
    private func exchange(_ request: HTTPRequest, purpose: String) throws(InfluxWriteError) -> HTTPResponse {
        do {
            return try client.send(request)
        } catch {
            let kind: InfluxWriteError.Kind = error.kind == .invalidRequest || error.kind == .initialization ? .fatal : .retry
            let what: String
            switch error.kind {
            case .connect: what = "InfluxDB at \(settings.baseURL) is unreachable (\(purpose))"
            case .timeout: what = "InfluxDB at \(settings.baseURL) did not answer within \(settings.timeoutMilliseconds) ms (\(purpose))"
            default: what = "\(purpose) to InfluxDB at \(settings.baseURL) failed"
            }
            throw InfluxWriteError(kind, "\(what): \(settings.redacted(error.message))")
        }
    }

    /// The error for a response that is neither success nor a rejection of lines.
    private func classifyFailure(_ response: HTTPResponse, purpose: String) -> InfluxWriteError {
        let status = response.status
        let body = ErrorBody(body: response.body, headerMessage: response.headers["X-Influxdb-Error"])
        let said = body.message.isEmpty ? "" : ": " + settings.redacted(body.message)
        switch status {
        case 401, 403:
            let problem = status == 401 ? "refused the credentials of" : "does not allow writes by"
            return InfluxWriteError(
                .permission,
                "InfluxDB \(settings.targetDescription) \(problem) \(settings.identityDescription) (HTTP \(status)\(said))",
                httpStatus: status)
        case 404:
            let what: String
            switch settings.version {
            case .v1: what = "InfluxDB \(settings.targetDescription) was not found"
            case .v2: what = "InfluxDB \(settings.targetDescription) was not found (check 'bucket' and 'org')"
            }
            return InfluxWriteError(.config, "\(what) (HTTP 404\(said))", httpStatus: status)
        case 429, 503, 502, 504, 408:
            let wait = RetryAfter.nanoseconds(response.headers["Retry-After"], nowSeconds: Self.unixTimeSeconds()) ?? 0
            let asked = wait > 0 ? "; Retry-After \(wait / 1_000_000_000) s" : ""
            return InfluxWriteError(
                .retry, "InfluxDB at \(settings.baseURL) is busy or unavailable (\(purpose): HTTP \(status)\(said)\(asked))",
                httpStatus: status, retryAfterNanoseconds: wait)
        case 500..<600:
            if body.message.contains("retention policy not found") {
                return InfluxWriteError(.config, "InfluxDB \(settings.targetDescription): \(settings.redacted(body.message)) (HTTP \(status))", httpStatus: status)
            }
            let wait = RetryAfter.nanoseconds(response.headers["Retry-After"], nowSeconds: Self.unixTimeSeconds()) ?? 0
            return InfluxWriteError(.retry, "InfluxDB at \(settings.baseURL) failed (\(purpose): HTTP \(status)\(said))", httpStatus: status, retryAfterNanoseconds: wait)
        case 300..<400:
            return InfluxWriteError(
                .config, "InfluxDB at \(settings.baseURL) redirects (\(purpose): HTTP \(status) to \(response.headers["Location"] ?? "?")); set 'url' to the final address",
                httpStatus: status)
        default:
            return InfluxWriteError(.fatal, "unexpected answer from InfluxDB at \(settings.baseURL) (\(purpose): HTTP \(status)\(said))", httpStatus: status)
        }
    }

    static func unixTimeSeconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec)
    }
}
