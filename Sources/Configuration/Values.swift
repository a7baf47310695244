import SystemSupport

/// A set of CPU (or memory node) numbers written the kernel's way: `"0-3,8,10-11"`.
public struct CPUSet: Sendable, Hashable, CustomStringConvertible {
    /// The numbers, ascending and unique.
    public private(set) var members: [Int]

    /// Creates a set from numbers in any order (duplicates dropped).
    public init(_ members: some Sequence<Int>) {
        self.members = Array(Set(members)).sorted()
    }

    /// Parses `"0"`, `"0,2,4"`, `"0-3"`, `"0-3,8"`; spaces around parts are allowed.
    /// - Throws: a message naming the bad part (`"3-1"`, `""`, `"x"`).
    public init(parsing text: String) throws(CPUSetParseError) {
        var numbers: [Int] = []
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty else { throw CPUSetParseError(message: "empty cpu list") }
        for rawPart in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let part = rawPart.trimmingWhitespace()
            guard !part.isEmpty else { throw CPUSetParseError(message: "empty element in cpu list '\(text)'") }
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count <= 2, let low = Int(bounds[0]), low >= 0,
                let high = bounds.count == 2 ? Int(bounds[1]) : low, high >= 0
            else {
                throw CPUSetParseError(message: "'\(part)' is not a cpu number or range like 0-3")
            }
            guard low <= high else { throw CPUSetParseError(message: "range '\(part)' runs backwards") }
            guard high - low < 65_536 else { throw CPUSetParseError(message: "range '\(part)' is too large") }
            numbers += Array(low...high)
        }
        self.init(numbers)
    }

    /// Whether the set is empty.
    public var isEmpty: Bool { members.isEmpty }
    /// How many numbers the set holds.
    public var count: Int { members.count }

    /// The members of `self` also in `other`.
    public func intersection(_ other: CPUSet) -> CPUSet { CPUSet(Set(members).intersection(other.members)) }

    /// The members of `self` not in `other`.
    public func subtracting(_ other: CPUSet) -> CPUSet { CPUSet(Set(members).subtracting(other.members)) }

    /// Whether `number` is a member.
    public func contains(_ number: Int) -> Bool { members.contains(number) }

    /// The canonical kernel form with ranges: `"0-3,8"`.
    public var description: String {
        var parts: [String] = []
        var index = 0
        while index < members.count {
            var end = index
            while end + 1 < members.count, members[end + 1] == members[end] + 1 { end += 1 }
            parts.append(end == index ? "\(members[index])" : "\(members[index])-\(members[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }
}

/// Why a cpu list could not be read.
public struct CPUSetParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    /// The message.
    public var description: String { message }
}

/// Sizes written the Docker way: a byte count or a number with a binary unit.
enum ByteSize {
    /// Parses `1073741824`, `"512m"`, `"2g"`, `"64k"`, `"1.5g"`, `"512MiB"`, `"2GB"`, `"100b"`.
    /// Every unit is binary (k = 1024), as `docker run --memory` reads them.
    static func parse(_ text: String) -> Int64? {
        let trimmed = text.trimmingWhitespace().lowercased()
        var numberEnd = trimmed.startIndex
        while numberEnd < trimmed.endIndex, trimmed[numberEnd].isNumber || trimmed[numberEnd] == "." {
            numberEnd = trimmed.index(after: numberEnd)
        }
        guard let number = Double(trimmed[..<numberEnd]), number >= 0 else { return nil }
        let unit = trimmed[numberEnd...].trimmingWhitespace()
        let kib = 1024.0
        let multipliers: [String: Double] = [
            "": 1, "b": 1,
            "k": kib, "kb": kib, "kib": kib,
            "m": kib * kib, "mb": kib * kib, "mib": kib * kib,
            "g": kib * kib * kib, "gb": kib * kib * kib, "gib": kib * kib * kib,
            "t": kib * kib * kib * kib, "tb": kib * kib * kib * kib, "tib": kib * kib * kib * kib,
        ]
        guard let multiplier = multipliers[unit] else { return nil }
        let bytes = (number * multiplier).rounded()
        guard bytes < 9.2e18 else { return nil }
        return Int64(bytes)
    }

    /// `"512 MiB"`-style text for messages.
    static func format(_ bytes: Int64) -> String {
        let units: [(Int64, String)] = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (size, name) in units where bytes >= size && bytes % size == 0 {
            return "\(bytes / size) \(name)"
        }
        return "\(bytes) bytes"
    }
}

/// A published container port: `"8080:80"`, `"127.0.0.1:8080:80"`, `"53:53/udp"`.
public struct PortMapping: Sendable, Hashable, CustomStringConvertible {
    /// The host address to bind, nil for all addresses (`0.0.0.0`).
    public var hostIP: String?
    /// The host port.
    public var hostPort: Int
    /// The container port.
    public var containerPort: Int
    /// `tcp` or `udp`.
    public var proto: String

    /// Creates a mapping.
    public init(hostIP: String? = nil, hostPort: Int, containerPort: Int, proto: String = "tcp") {
        self.hostIP = hostIP
        self.hostPort = hostPort
        self.containerPort = containerPort
        self.proto = proto
    }

    /// Parses `[ip:]host:container[/tcp|/udp]`; nil with a reason when malformed.
    static func parse(_ text: String) -> Result<PortMapping, CPUSetParseError> {
        var body = Substring(text.trimmingWhitespace())
        var proto = "tcp"
        if let slash = body.lastIndex(of: "/") {
            proto = String(body[body.index(after: slash)...]).lowercased()
            body = body[..<slash]
            guard proto == "tcp" || proto == "udp" else {
                return .failure(CPUSetParseError(message: "protocol '\(proto)' in '\(text)' must be tcp or udp"))
            }
        }
        let parts = body.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || parts.count == 3 else {
            return .failure(CPUSetParseError(message: "'\(text)' is not \"host:container\" (e.g. \"8080:80\")"))
        }
        let hostIP = parts.count == 3 ? parts[0] : nil
        guard let host = Int(parts[parts.count - 2]), let container = Int(parts[parts.count - 1]),
            (1...65535).contains(host), (1...65535).contains(container)
        else {
            return .failure(CPUSetParseError(message: "'\(text)' needs two port numbers between 1 and 65535, as \"host:container\""))
        }
        return .success(PortMapping(hostIP: hostIP, hostPort: host, containerPort: container, proto: proto))
    }

    /// `"[ip:]host:container/proto"`.
    public var description: String {
        (hostIP.map { "\($0):" } ?? "") + "\(hostPort):\(containerPort)/\(proto)"
    }
}
