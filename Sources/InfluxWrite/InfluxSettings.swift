/// Where and how to write to InfluxDB: the `influx` sink's configuration and
/// `rdt4nn upload`'s options, in one checked value.
///
/// The keys mirror the `db:` block of both original configuration formats:
/// `host` → ``url``, `name` → ``database`` (v1) or ``bucket`` (v2), `user` →
/// ``username``, `password` → ``password`` (v1) or ``token`` (v2), `org` →
/// ``org``.
public struct InfluxSettings: Sendable, Equatable {
    /// Which write API to use.
    public enum APIVersion: Int, Sendable, Hashable, CustomStringConvertible {
        /// `POST /write?db=…&rp=…&precision=ns` (InfluxDB 1.x, and 2.x through a DBRP mapping).
        case v1 = 1
        /// `POST /api/v2/write?org=…&bucket=…&precision=ns` with `Authorization: Token …`
        /// (InfluxDB 2.x, and 1.8+ with `bucket=db/rp`).
        case v2 = 2

        public var description: String { "v\(rawValue)" }
    }

    /// The write API.
    public var version: APIVersion
    /// Base URL, `http://host:8086` or `https://host/prefix` (no query, no credentials).
    public var url: String
    /// The database (v1).
    public var database: String?
    /// The bucket (v2).
    public var bucket: String?
    /// The organisation name or id (v2).
    public var org: String?
    /// User name: HTTP Basic authentication with ``password`` (v1); with v2, `Token user:password` (InfluxDB 1.8).
    public var username: String?
    /// Password of ``username``. Never printed.
    public var password: String?
    /// API token: `Authorization: Token <token>` (v2, and v1 against InfluxDB 2.x). Never printed.
    public var token: String?
    /// Retention policy (v1 only; empty or nil = the database's default).
    public var retentionPolicy: String?
    /// Compress request bodies (`Content-Encoding: gzip`).
    public var gzip: Bool
    /// Connect and total timeout of each request, in milliseconds.
    public var timeoutMilliseconds: Int
    /// v1: `CREATE DATABASE` at start when the database is missing.
    public var createDatabase: Bool

    /// Creates settings; ``validate()`` checks them.
    public init(
        version: APIVersion = .v1,
        url: String,
        database: String? = nil,
        bucket: String? = nil,
        org: String? = nil,
        username: String? = nil,
        password: String? = nil,
        token: String? = nil,
        retentionPolicy: String? = nil,
        gzip: Bool = true,
        timeoutMilliseconds: Int = 5_000,
        createDatabase: Bool = true
    ) {
        self.version = version
        self.url = url
        self.database = database
        self.bucket = bucket
        self.org = org
        self.username = username
        self.password = password
        self.token = token
        self.retentionPolicy = retentionPolicy
        self.gzip = gzip
        self.timeoutMilliseconds = timeoutMilliseconds
        self.createDatabase = createDatabase
    }

    /// The base URL without trailing slashes.
    public var baseURL: String {
        var text = url
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }

    /// What is written to, for messages: `database "rdt" at http://…` or
    /// `bucket "b" (org "o") at http://…`.
    public var targetDescription: String {
        switch version {
        case .v1:
            let rp = retentionPolicy.flatMap { $0.isEmpty ? nil : $0 }.map { ", retention policy \"\($0)\"" } ?? ""
            return "database \"\(database ?? "")\"\(rp) at \(baseURL)"
        case .v2:
            let org = self.org.flatMap { $0.isEmpty ? nil : $0 }.map { " (org \"\($0)\")" } ?? ""
            return "bucket \"\(bucket ?? "")\"\(org) at \(baseURL)"
        }
    }

    /// Who writes, for messages: `user "u"`, `the configured token` or `no credentials`.
    public var identityDescription: String {
        if let username, !username.isEmpty { return "user \"\(username)\"" }
        if let token, !token.isEmpty { return "the configured token" }
        return "no credentials"
    }

    /// True when ``url`` names this machine: `localhost`, 127.0.0.0/8 or `::1`.
    ///
    /// Compression is off by default for such a server: it would save only a
    /// copy through the loopback device while costing CPU time (and cache) on
    /// both ends -- on the very machine whose contention a run measures.
    public var isLoopback: Bool {
        let authority = self.authority.lowercased()
        let host: Substring
        if authority.hasPrefix("[") {
            host = authority.dropFirst().prefix { $0 != "]" }
        } else {
            host = authority.prefix { $0 != ":" }
        }
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// The `host[:port]` part of ``url`` (between `//` and the next `/`).
    private var authority: Substring {
        url.drop { $0 != "/" }.dropFirst(2).prefix { $0 != "/" }
    }

    /// The `gzip` setting when the configuration leaves it out: on, except
    /// for a server on this machine (see ``isLoopback``).
    public static func defaultGzip(url: String) -> Bool {
        !InfluxSettings(url: url).isLoopback
    }

    /// Checks the settings; the message names the offending key.
    /// - Throws: ``InfluxWriteError`` of kind `.config`.
    public func validate() throws(InfluxWriteError) {
        func fail(_ message: String) -> InfluxWriteError { InfluxWriteError(.config, message) }
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            throw fail("'url' must be an http:// or https:// URL such as http://127.0.0.1:8086, not '\(url)'")
        }
        guard !authority.isEmpty else { throw fail("'url' \(url) has no host") }
        guard !authority.contains("@") else {
            throw fail("'url' must not carry credentials; set 'username' and 'password' (or 'token') instead")
        }
        guard !url.contains("?"), !url.contains("#") else {
            throw fail("'url' must be a base URL without query or fragment (the sink adds /write or /api/v2/write), not '\(url)'")
        }
        guard !url.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            throw fail("'url' contains spaces or control characters")
        }
        guard (1...600_000).contains(timeoutMilliseconds) else {
            throw fail("'timeout_ms' must be 1 to 600000 (10 minutes), not \(timeoutMilliseconds)")
        }
        let hasUser = !(username ?? "").isEmpty
        let hasPassword = password != nil
        let hasToken = !(token ?? "").isEmpty
        if hasUser != hasPassword {
            throw fail(hasUser ? "'username' is set but 'password' is not: give both or neither"
                               : "'password' is set but 'username' is not: give both or neither (an InfluxDB 2 token goes in 'token')")
        }
        if hasToken && hasUser {
            throw fail("give either 'token' or 'username' and 'password', not both")
        }
        switch version {
        case .v1:
            guard let database, !database.isEmpty else {
                throw fail(bucket != nil ? "version 1 writes to a database: set 'database' (a 'bucket' needs version: 2)"
                                         : "'database' is required with version 1 (the InfluxDB database to write to)")
            }
            if bucket != nil { throw fail("'bucket' applies to version 2 only; version 1 uses 'database'") }
            if org != nil { throw fail("'org' applies to version 2 only") }
        case .v2:
            guard let bucket, !bucket.isEmpty else {
                throw fail(database != nil ? "version 2 writes to a bucket: set 'bucket' (a 'database' needs version: 1)"
                                           : "'bucket' is required with version 2 (the InfluxDB bucket to write to)")
            }
            if database != nil { throw fail("'database' applies to version 1 only; version 2 uses 'bucket'") }
            if let retentionPolicy, !retentionPolicy.isEmpty {
                throw fail("'retention_policy' applies to version 1 only; with version 2 against InfluxDB 1.8 write the bucket as database/retention_policy")
            }
        }
    }

    /// The path and query of a write request.
    var writePath: String {
        switch version {
        case .v1:
            var path = "/write?db=" + Self.percentEncoded(database ?? "")
            if let retentionPolicy, !retentionPolicy.isEmpty { path += "&rp=" + Self.percentEncoded(retentionPolicy) }
            return path + "&precision=ns"
        case .v2:
            var path = "/api/v2/write?"
            if let org, !org.isEmpty { path += "org=" + Self.percentEncoded(org) + "&" }
            return path + "bucket=" + Self.percentEncoded(bucket ?? "") + "&precision=ns"
        }
    }

    /// The `Authorization` header value, if any.
    var authorization: String? {
        if let token, !token.isEmpty { return "Token " + token }
        guard let username, !username.isEmpty, let password else { return nil }
        switch version {
        case .v1: return "Basic " + Base64.encode(Array((username + ":" + password).utf8))
        case .v2: return "Token " + username + ":" + password
        }
    }

    /// Removes the password and token from a text (server messages may echo requests).
    func redacted(_ text: String) -> String {
        var result = text
        for secret in [password, token].compactMap({ $0 }) where secret.count >= 3 {
            result = result.replacingAll(secret, with: "***")
        }
        return result
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters.
    public static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                result.unicodeScalars.append("%")
                result.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                result.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 0xF)]))
            }
        }
        return result
    }
}

/// RFC 4648 base64 (for HTTP Basic authentication).
enum Base64 {
    static func encode(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let b0 = UInt32(bytes[index])
            let b1 = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
            let b2 = index + 2 < bytes.count ? UInt32(bytes[index + 2]) : 0
            let triple = b0 << 16 | b1 << 8 | b2
            output.append(alphabet[Int(triple >> 18 & 63)])
            output.append(alphabet[Int(triple >> 12 & 63)])
            output.append(index + 1 < bytes.count ? alphabet[Int(triple >> 6 & 63)] : UInt8(ascii: "="))
            output.append(index + 2 < bytes.count ? alphabet[Int(triple & 63)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }
}

extension String {
    /// Every occurrence of `target` replaced (byte-wise on UTF-8).
    func replacingAll(_ target: String, with replacement: String) -> String {
        let haystack = Array(utf8)
        let needle = Array(target.utf8)
        guard !needle.isEmpty, haystack.count >= needle.count else { return self }
        var result: [UInt8] = []
        var index = 0
        while index < haystack.count {
            if index + needle.count <= haystack.count, haystack[index] == needle[0],
               haystack[index..<(index + needle.count)].elementsEqual(needle) {
                result += replacement.utf8
                index += needle.count
            } else {
                result.append(haystack[index])
                index += 1
            }
        }
        return String(decoding: result, as: UTF8.self)
    }
}
