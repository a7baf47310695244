/// A group's `schemata`: one line per resource, one value per domain.
///
/// Cache resources (`L3`, `L3CODE`, `L3DATA`, `L2`, ...) hold capacity
/// bitmasks (hex in the file); `MB` and `SMBA` hold decimal bandwidth values.
public struct Schemata: Sendable, Equatable {
    /// One domain's value.
    public struct Entry: Sendable, Equatable {
        /// Domain id (the cache id).
        public var domain: Int
        /// CBM or bandwidth value.
        public var value: UInt64

        /// Creates an entry.
        public init(domain: Int, value: UInt64) {
            self.domain = domain
            self.value = value
        }
    }

    /// One resource line.
    public struct Line: Sendable, Equatable {
        /// Resource name, trimmed (`L3`, `MB`, ...).
        public var resource: String
        /// Values in file order.
        public var entries: [Entry]
        /// True for `<res>:uninitialized` (a `pseudo-locksetup` group).
        public var isUninitialized: Bool

        /// Creates a line.
        public init(resource: String, entries: [Entry], isUninitialized: Bool = false) {
            self.resource = resource
            self.entries = entries
            self.isUninitialized = isUninitialized
        }
    }

    /// The lines, in file order.
    public var lines: [Line]

    /// Creates a schemata from lines.
    public init(lines: [Line]) {
        self.lines = lines
    }

    /// True when `resource` holds cache bitmasks (hex), false for bandwidth (decimal).
    public static func isCacheResource(_ resource: String) -> Bool {
        resource.hasPrefix("L3") || resource.hasPrefix("L2")
    }

    /// Parses a `schemata` file tolerantly: names right-aligned with spaces
    /// (`    MB:`), padded values (`MB:0=  100`, `L2:0=0ffff`), any line order,
    /// trailing `;`, and `<res>:uninitialized`.
    public init(parsing text: String, path: String = "schemata") throws(ResctrlError) {
        var lines: [Line] = []
        for rawLine in text.split(separator: "\n") {
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty { continue }
            guard let colon = line.firstIndex(of: ":") else {
                throw .malformed(path: path, detail: "line '\(line)' has no ':'")
            }
            let resource = line[..<colon].trimmingWhitespace()
            let rest = line[line.index(after: colon)...].trimmingWhitespace()
            if rest == "uninitialized" {
                lines.append(Line(resource: resource, entries: [], isUninitialized: true))
                continue
            }
            var entries: [Entry] = []
            for item in rest.split(separator: ";") {
                let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard pair.count == 2, let domain = Int(pair[0].trimmingWhitespace()) else {
                    throw .malformed(path: path, detail: "'\(item)' in line '\(line)' is not <domain>=<value>")
                }
                let valueText = pair[1].trimmingWhitespace()
                let value = Self.isCacheResource(resource) ? Self.parseHex(valueText) : UInt64(valueText)
                guard let value else {
                    throw .malformed(path: path, detail: "value '\(valueText)' of domain \(domain) in line '\(line)' is not a \(Self.isCacheResource(resource) ? "hex mask" : "decimal number")")
                }
                entries.append(Entry(domain: domain, value: value))
            }
            lines.append(Line(resource: resource, entries: entries))
        }
        self.lines = lines
    }

    /// Hex with or without `0x`.
    static func parseHex(_ text: String) -> UInt64? {
        var digits = Substring(text)
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits = digits.dropFirst(2) }
        return digits.isEmpty ? nil : UInt64(digits, radix: 16)
    }

    /// The text to write: `L3:0=fff;1=fff\nMB:0=100;1=100\n` (hex lowercase
    /// without `0x`, decimal bandwidth), every line ending in `\n`.
    public var text: String {
        var text = ""
        for line in lines where !line.isUninitialized {
            text += line.resource + ":"
            text += line.entries.map { entry in
                "\(entry.domain)=" + (Self.isCacheResource(line.resource) ? String(entry.value, radix: 16) : String(entry.value))
            }.joined(separator: ";")
            text += "\n"
        }
        return text
    }

    /// The value of `resource` in `domain`, if listed.
    public func value(_ resource: String, domain: Int) -> UInt64? {
        lines.first { $0.resource == resource }?.entries.first { $0.domain == domain }?.value
    }

    /// Sets one value (adding the line or entry when missing).
    public mutating func set(_ resource: String, domain: Int, to value: UInt64) {
        if let lineIndex = lines.firstIndex(where: { $0.resource == resource }) {
            lines[lineIndex].isUninitialized = false
            if let entryIndex = lines[lineIndex].entries.firstIndex(where: { $0.domain == domain }) {
                lines[lineIndex].entries[entryIndex].value = value
            } else {
                lines[lineIndex].entries.append(Entry(domain: domain, value: value))
            }
        } else {
            lines.append(Line(resource: resource, entries: [Entry(domain: domain, value: value)]))
        }
    }

    /// Applies a partial update: the resources and domains `update` names
    /// take its values, everything else stays (the kernel's semantics).
    public mutating func apply(_ update: Schemata) {
        for line in update.lines {
            for entry in line.entries { set(line.resource, domain: entry.domain, to: entry.value) }
        }
    }

    /// Domain ids per resource, in file order.
    public var domainsByResource: [String: [Int]] {
        var result: [String: [Int]] = [:]
        for line in lines { result[line.resource, default: []] += line.entries.map(\.domain) }
        return result
    }
}

/// Why a schemata write is refused: the kernel's `last_cmd_status` text, or
/// nil where the kernel returns EINVAL without one (unknown domain id,
/// missing trailing newline).
public struct SchemataRejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// The exact `last_cmd_status` line the kernel would set (no `\n`).
    public var kernelStatus: String?
    /// Our explanation when the kernel gives none.
    public var explanation: String

    /// Creates a rejection.
    public init(kernelStatus: String?, explanation: String = "") {
        self.kernelStatus = kernelStatus
        self.explanation = explanation
    }

    /// The status text, or the explanation.
    public var description: String {
        if let kernelStatus { return explanation.isEmpty ? kernelStatus : "\(kernelStatus) (\(explanation))" }
        return "EINVAL without a status text: \(explanation)"
    }
}

/// Validates schemata writes exactly as `fs/resctrl/ctrlmondata.c` does
/// (`rdtgroup_schemata_write`, `parse_line`, `cbm_validate`, `bw_validate`),
/// with the same messages, so a fake tree refuses what the kernel refuses and
/// a scheduler learns the effective (rounded) values before writing.
public struct SchemataValidator: Sendable {
    /// Another CTRL_MON group, for the overlap rules.
    public struct OtherGroup: Sendable, Equatable {
        /// For messages.
        public var name: String
        /// `shareable`, `exclusive`, `pseudo-locked`, ...
        public var mode: String
        /// Its current schemata.
        public var schemata: Schemata

        /// Creates a description.
        public init(name: String, mode: String, schemata: Schemata) {
            self.name = name
            self.mode = mode
            self.schemata = schemata
        }
    }

    /// The resources' rules.
    public var features: ResctrlFeatures
    /// The control domains per resource (the root group's schemata lists them all).
    public var domains: [String: [Int]]
    /// The written group's mode.
    public var mode: String
    /// Every other CTRL_MON group, the root included.
    public var others: [OtherGroup]

    /// Creates a validator.
    public init(features: ResctrlFeatures, domains: [String: [Int]], mode: String = "shareable", others: [OtherGroup] = []) {
        self.features = features
        self.domains = domains
        self.mode = mode
        self.others = others
    }

    /// Checks `text` as one `write(2)` to a `schemata` file; on success the
    /// values that would take effect (MB rounded up to the granularity).
    public func validate(writing text: String) -> Result<Schemata, SchemataRejection> {
        guard text.hasSuffix("\n") else {
            return .failure(SchemataRejection(kernelStatus: nil, explanation: "the text must end with a newline"))
        }
        if mode == "pseudo-locked" { return .failure(SchemataRejection(kernelStatus: "Resource group is pseudo-locked")) }
        var result = Schemata(lines: [])
        var seen: Set<String> = []
        for token in text.dropLast().split(separator: "\n", omittingEmptySubsequences: false) {
            guard let colon = token.firstIndex(of: ":") else { return .failure(SchemataRejection(kernelStatus: "Missing ':'")) }
            let resource = token[..<colon].trimmingWhitespace()
            var line = Substring(token[token.index(after: colon)...])
            if line.isEmpty { return .failure(SchemataRejection(kernelStatus: "Missing '\(resource)' value")) }
            let cache = features.cache(resource)
            let isBandwidth = resource == "MB" && features.memoryBandwidth != nil
            guard cache != nil || isBandwidth else {
                return .failure(SchemataRejection(kernelStatus: "Unknown or unsupported resource name '\(resource)'"))
            }
            if isBandwidth, mode == "pseudo-locksetup" { return .failure(SchemataRejection(kernelStatus: "Cannot pseudo-lock MBA resource")) }
            // parse_line: `id=value` items separated by ';' until the line is empty.
            while !line.isEmpty {
                let item: Substring
                if let semicolon = line.firstIndex(of: ";") {
                    item = line[..<semicolon]
                    line = line[line.index(after: semicolon)...]
                } else {
                    item = line
                    line = ""
                }
                guard let equals = item.firstIndex(of: "="), let domain = Self.kernelUnsigned(item[..<equals], radix: 10).flatMap({ Int(exactly: $0) }) else {
                    return .failure(SchemataRejection(kernelStatus: "Missing '=' or non-numeric domain"))
                }
                let valueText = item[item.index(after: equals)...].trimmingWhitespace()
                guard domains[resource]?.contains(domain) == true else {
                    return .failure(SchemataRejection(kernelStatus: nil, explanation: "\(resource) has no domain \(domain) (domains: \((domains[resource] ?? []).map(String.init).joined(separator: ", ")))"))
                }
                guard seen.insert("\(resource):\(domain)").inserted else {
                    return .failure(SchemataRejection(kernelStatus: "Duplicate domain \(domain)"))
                }
                let value: UInt64
                if let cache {
                    switch validateCBM(valueText, cache) {
                    case .failure(let rejection): return .failure(rejection)
                    case .success(let mask): value = mask
                    }
                    if let rejection = overlapProblem(mask: value, resource: resource, domain: domain) { return .failure(rejection) }
                } else {
                    switch validateBandwidth(valueText, features.memoryBandwidth!) {
                    case .failure(let rejection): return .failure(rejection)
                    case .success(let bandwidth): value = bandwidth
                    }
                }
                result.set(resource, domain: domain, to: value)
            }
        }
        return .success(result)
    }

    /// `cbm_validate`.
    func validateCBM(_ text: String, _ cache: CacheAllocation) -> Result<UInt64, SchemataRejection> {
        guard let mask = Self.kernelUnsigned(Substring(text), radix: 16) else {
            return .failure(SchemataRejection(kernelStatus: "Non-hex character in the mask \(text)"))
        }
        if (cache.minCBMBits > 0 && mask == 0) || mask > cache.cbmMask {
            return .failure(SchemataRejection(kernelStatus: "Mask out of range"))
        }
        let length = cache.cbmLength
        let firstBit = mask == 0 ? length : mask.trailingZeroBitCount
        var zeroBit = firstBit
        while zeroBit < length && mask & (1 << UInt64(zeroBit)) != 0 { zeroBit += 1 }
        if !cache.sparseMasks, zeroBit < length, (mask >> UInt64(zeroBit)) != 0 {
            return .failure(SchemataRejection(kernelStatus: "The mask \(String(mask, radix: 16)) has non-consecutive 1-bits"))
        }
        if zeroBit - firstBit < cache.minCBMBits {
            return .failure(SchemataRejection(kernelStatus: "Need at least \(cache.minCBMBits) bits in the mask"))
        }
        return .success(mask)
    }

    /// `bw_validate`: range, then rounded up to the granularity.
    func validateBandwidth(_ text: String, _ bandwidth: MemoryBandwidthAllocation) -> Result<UInt64, SchemataRejection> {
        let needsLinear = bandwidth.maxBandwidth == 100
        if !bandwidth.delayLinear && needsLinear {
            return .failure(SchemataRejection(kernelStatus: "No support for non-linear MB domains"))
        }
        guard let value = Self.kernelUnsigned(Substring(text), radix: 10), value <= UInt64(UInt32.max) else {
            return .failure(SchemataRejection(kernelStatus: "Invalid MB value \(text)"))
        }
        if bandwidth.isMBps { return .success(value) }
        if value < UInt64(bandwidth.minBandwidth) || value > bandwidth.maxBandwidth {
            return .failure(SchemataRejection(kernelStatus: "MB value \(value) out of range [\(bandwidth.minBandwidth),\(bandwidth.maxBandwidth)]"))
        }
        let granularity = UInt64(max(1, bandwidth.granularity))
        return .success((value + granularity - 1) / granularity * granularity)
    }

    /// The exclusive and pseudo-locked overlap rules (`rdtgroup_cbm_overlaps`).
    func overlapProblem(mask: UInt64, resource: String, domain: Int) -> SchemataRejection? {
        for other in others {
            guard let theirs = other.schemata.value(resource, domain: domain), theirs & mask != 0 else { continue }
            if other.mode == "pseudo-locked" {
                return SchemataRejection(kernelStatus: "CBM overlaps with pseudo-locked region", explanation: "group \(other.name)")
            }
        }
        for other in others where other.mode == "exclusive" {
            if let theirs = other.schemata.value(resource, domain: domain), theirs & mask != 0 {
                return SchemataRejection(kernelStatus: "Overlaps with exclusive group", explanation: "group \(other.name)")
            }
        }
        if mode == "exclusive" || mode == "pseudo-locksetup" {
            for other in others where other.mode != "pseudo-locked" {
                if let theirs = other.schemata.value(resource, domain: domain), theirs & mask != 0 {
                    return SchemataRejection(kernelStatus: "Overlaps with other group", explanation: "group \(other.name)")
                }
            }
        }
        return nil
    }

    /// `kstrtoul`: optional `+`, optional `0x` for base 16, at least one digit,
    /// an optional single trailing newline, nothing else; nil on overflow.
    static func kernelUnsigned(_ text: Substring, radix: Int) -> UInt64? {
        var digits = text
        if digits.hasSuffix("\n") { digits = digits.dropLast() }
        if digits.hasPrefix("+") { digits = digits.dropFirst() }
        if radix == 16, digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits = digits.dropFirst(2) }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isHexDigit && (radix == 16 || $0.isNumber) }) else { return nil }
        return UInt64(digits, radix: radix)
    }
}
