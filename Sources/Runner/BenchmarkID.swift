import FoundationEssentials
import SystemSupport

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// A benchmark run's id: sortable by start time, unique without a database.
///
/// Format: `<name>-YYYYMMDD-HHMMSS-<8 hex>` (UTC), e.g.
/// `neighbours-20261129-083702-3f9a2c1d`; the name part is lower-cased and
/// reduced to `[a-z0-9-]`, at most 32 characters.  Valid as a Docker
/// container-name prefix, an InfluxDB tag value and a directory name.
public struct BenchmarkID: Sendable, Hashable, CustomStringConvertible {
    /// The id text.
    public let value: String

    /// Makes a new id for a benchmark `name` started at `date`.
    public init(name: String, date: Date = Date(), random: UInt32 = UInt32.random(in: .min ... .max)) {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var c = tm()
        gmtime_r(&seconds, &c)
        func two(_ n: Int32) -> String { TextFormat.zeroPadded(n, width: 2) }
        let stamp = "\(c.tm_year + 1900)\(two(c.tm_mon + 1))\(two(c.tm_mday))-\(two(c.tm_hour))\(two(c.tm_min))\(two(c.tm_sec))"
        let slug = Self.slug(name)
        let suffix = TextFormat.hex(random, width: 8)
        value = slug.isEmpty ? "\(stamp)-\(suffix)" : "\(slug)-\(stamp)-\(suffix)"
    }

    /// Wraps an existing id (e.g. from `--benchmark ID`).
    public init(existing value: String) { self.value = value }

    /// `name` reduced to `[a-z0-9-]`, no leading/trailing/double dashes, ≤ 32 characters.
    static func slug(_ name: String) -> String {
        var out = ""
        for scalar in name.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                out.unicodeScalars.append(scalar)
            } else if !out.isEmpty && !out.hasSuffix("-") {
                out += "-"
            }
        }
        while out.hasSuffix("-") { out.removeLast() }
        var cut = out.prefix(32)
        while cut.hasPrefix("-") { cut.removeFirst() }
        while cut.hasSuffix("-") { cut.removeLast() }
        return String(cut)
    }

    public var description: String { value }
}
