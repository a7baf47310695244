/// A base URL taken apart: what the built-in transport connects to and what it puts in the
/// request line and `Host` header.
struct HTTPBaseURL: Sendable, Hashable {
    /// `http` or `https` (lowercased).
    var scheme: String
    /// The host name or address, without IPv6 brackets (`::1`, `127.0.0.1`, `influx.lab`).
    var host: String
    /// The port (80 or 443 when the URL names none).
    var port: UInt16
    /// `host[:port]` exactly as written in the URL (brackets kept): the `Host` header.
    var authority: String
    /// The path after the authority without trailing slashes (`""` or `/prefix`); request
    /// paths are appended to it.
    var pathPrefix: String

    /// Parses `scheme://host[:port][/prefix]`.
    /// - Returns: The parts, or a message saying what is wrong with `text`.
    static func parse(_ text: String) -> Result<HTTPBaseURL, BaseURLProblem> {
        func fail(_ why: String) -> Result<HTTPBaseURL, BaseURLProblem> { .failure(BaseURLProblem(message: why)) }
        guard !text.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            return fail("base URL '\(text)' contains spaces or control characters")
        }
        let lower = text.lowercased()
        let scheme: String
        if lower.hasPrefix("http://") {
            scheme = "http"
        } else if lower.hasPrefix("https://") {
            scheme = "https"
        } else {
            return fail("unsupported base URL '\(text)': use http://host[:port] or https://host[:port]")
        }
        let rest = text.dropFirst(scheme.count + 3)
        let authority = rest.prefix { $0 != "/" }
        var pathPrefix = String(rest.dropFirst(authority.count))
        while pathPrefix.hasSuffix("/") { pathPrefix.removeLast() }
        guard !pathPrefix.contains("?"), !pathPrefix.contains("#") else {
            return fail("base URL '\(text)' must not have a query or fragment")
        }
        guard !authority.isEmpty else { return fail("base URL '\(text)' has no host") }
        guard !authority.contains("@") else {
            return fail("base URL '\(text)' must not carry credentials (send an Authorization header instead)")
        }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                return fail("base URL '\(text)' has an unterminated IPv6 address")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return fail("base URL '\(text)' has junk after the IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
            guard !portText!.contains(":") else {
                return fail("base URL '\(text)': write an IPv6 address in brackets, e.g. http://[::1]:8086")
            }
        } else {
            host = authority
        }
        guard !host.isEmpty else { return fail("base URL '\(text)' has no host") }
        var port: UInt16 = scheme == "https" ? 443 : 80
        if let portText, !portText.isEmpty {
            guard portText.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let value = UInt16(portText), value > 0 else {
                return fail("base URL '\(text)' has an invalid port '\(portText)' (1 to 65535)")
            }
            port = value
        }
        return .success(HTTPBaseURL(
            scheme: scheme, host: String(host), port: port, authority: String(authority), pathPrefix: pathPrefix))
    }
}

/// Why a base URL cannot be used.
struct BaseURLProblem: Error, Sendable, Hashable {
    /// The explanation, naming the URL.
    var message: String
}
