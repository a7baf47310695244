/// Where an ``HTTPClient`` sends its requests.
public enum HTTPTransport: Sendable, Hashable, CustomStringConvertible {
    /// HTTP over a Unix domain socket at `path` (e.g. `/var/run/docker.sock`).
    /// Requests carry `Host: localhost`.
    case unixSocket(path: String)
    /// HTTP over TCP to `baseURL`, e.g. `http://127.0.0.1:8086`, `http://[::1]:8086/prefix` or
    /// `https://influx.example.org` (a path prefix is kept, trailing slashes dropped; https://
    /// needs libcurl at run time).
    case tcp(baseURL: String)

    /// The socket path or base URL, as used in error messages.
    public var description: String {
        switch self {
        case .unixSocket(let path): return path
        case .tcp(let baseURL): return baseURL
        }
    }
}

/// An HTTP request method.
public struct HTTPMethod: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
    /// The method token, e.g. `GET`.
    public var rawValue: String
    /// Creates a method from its token.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// `GET`
    public static let get = HTTPMethod(rawValue: "GET")
    /// `HEAD`
    public static let head = HTTPMethod(rawValue: "HEAD")
    /// `POST`
    public static let post = HTTPMethod(rawValue: "POST")
    /// `PUT`
    public static let put = HTTPMethod(rawValue: "PUT")
    /// `DELETE`
    public static let delete = HTTPMethod(rawValue: "DELETE")
    /// The method token.
    public var description: String { rawValue }
}

/// An ordered list of HTTP header fields with case-insensitive lookup.
public struct HTTPHeaders: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    /// The fields in the order they were added or received.
    public private(set) var fields: [(name: String, value: String)] = []

    /// Creates an empty header list.
    public init() {}

    /// Creates a header list from name/value pairs, keeping their order.
    public init(dictionaryLiteral elements: (String, String)...) {
        for (name, value) in elements { add(name: name, value: value) }
    }

    /// Appends a field (an existing field of the same name is kept).
    public mutating func add(name: String, value: String) {
        fields.append((name: name, value: value))
    }

    /// Replaces every field named `name` (case-insensitively) with one field.
    public mutating func replaceOrAdd(name: String, value: String) {
        fields.removeAll { $0.name.lowercased() == name.lowercased() }
        add(name: name, value: value)
    }

    /// The value of the first field named `name` (case-insensitive), or `nil`.
    public subscript(name: String) -> String? {
        let lower = name.lowercased()
        return fields.first { $0.name.lowercased() == lower }?.value
    }

    /// Iterates the fields in order.
    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        fields.makeIterator()
    }

    /// `Name: value` lines joined by `, `.
    public var description: String {
        fields.map { "\($0.name): \($0.value)" }.joined(separator: ", ")
    }

    /// Equal when both hold the same fields in the same order (names compared exactly).
    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    /// Hashes the fields in order.
    public func hash(into hasher: inout Hasher) {
        for field in fields {
            hasher.combine(field.name)
            hasher.combine(field.value)
        }
    }
}

/// Connect and total timeouts. Both are always finite: a request can never hang forever.
public struct HTTPTimeouts: Sendable, Hashable {
    /// Time allowed to establish the connection.
    public var connect: Duration
    /// Time allowed for the whole request, connection and body included.
    public var total: Duration

    /// Creates timeouts. Values below one millisecond are raised to one millisecond.
    public init(connect: Duration = .seconds(5), total: Duration = .seconds(60)) {
        self.connect = connect
        self.total = total
    }

    /// 5 s to connect, 60 s in total.
    public static let `default` = HTTPTimeouts()
}

extension Duration {
    /// Whole milliseconds, at least 1, saturating at `Int.max`.
    var clampedMilliseconds: Int {
        let (seconds, attoseconds) = components
        if seconds >= Int64(Int.max / 1000) { return Int.max }
        let ms = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return ms < 1 ? 1 : Int(ms)
    }
}

/// One HTTP request.
public struct HTTPRequest: Sendable, Hashable {
    /// The method.
    public var method: HTTPMethod
    /// The path and query, starting with `/`, already percent-encoded (e.g. `/v1.41/_ping`).
    public var path: String
    /// Extra request headers. `Content-Length` is always set by the client (a caller's value is
    /// ignored), `Host` unless given here.
    public var headers: HTTPHeaders
    /// Raw request body (e.g. JSON, or gzip-compressed line protocol with a
    /// `Content-Encoding: gzip` header), or `nil` for none.
    public var body: [UInt8]?
    /// Overrides the client's total timeout for this request (e.g. for long pulls or waits).
    public var timeout: Duration?

    /// Creates a request.
    public init(
        method: HTTPMethod = .get,
        path: String,
        headers: HTTPHeaders = HTTPHeaders(),
        body: [UInt8]? = nil,
        timeout: Duration? = nil
    ) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// A complete HTTP response.
public struct HTTPResponse: Sendable, Hashable {
    /// The status code of the final response (after any `100 Continue`).
    public var status: Int
    /// The headers of the final response.
    public var headers: HTTPHeaders
    /// The body. For streamed requests with a 2xx status the body went to the callback
    /// and this is empty.
    public var body: [UInt8]

    /// Creates a response.
    public init(status: Int, headers: HTTPHeaders, body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Whether the status is 2xx.
    public var isSuccess: Bool { (200..<300).contains(status) }

    /// The body decoded as UTF-8 (invalid sequences replaced).
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// What a streaming callback wants next.
public enum HTTPStreamControl: Sendable, Hashable {
    /// Keep receiving.
    case `continue`
    /// Stop the transfer now; the request then returns normally (the connection is closed).
    case stop
}

/// Splits a byte stream into lines on `\n`, removing a trailing `\r`. Partial lines are
/// kept until the rest arrives; ``finish()`` returns a last line without a terminator.
public struct HTTPLineSplitter: Sendable {
    private var pending: [UInt8] = []

    /// Creates an empty splitter.
    public init() {}

    /// Feeds bytes and returns every line they complete, without terminators.
    public mutating func feed<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                if pending.last == UInt8(ascii: "\r") { pending.removeLast() }
                lines.append(pending)
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
            }
        }
        return lines
    }

    /// Returns the unterminated rest, if any, and empties the splitter.
    public mutating func finish() -> [UInt8]? {
        defer { pending = [] }
        if pending.last == UInt8(ascii: "\r") { pending.removeLast() }
        return pending.isEmpty ? nil : pending
    }
}
